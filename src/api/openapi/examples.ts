/**
 * Building blocks for response schemas and their examples: how a value looks on the wire
 * (dates are ISO 8601 strings in UTC; ids are UUIDs) and the example values the operations share.
 */
import { z } from 'zod';

/** A time as JSON carries it (Date.toJSON: UTC, milliseconds). */
export const dateTime = z.iso.datetime();
export const uuid = z.uuid();

export const EXAMPLE_TENANT_ID = '0b6f3c1e-5d2a-4f7b-9c1d-2e3f4a5b6c7d';
export const EXAMPLE_ACCOUNT_ID = '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
export const EXAMPLE_TEMPLATE_ID = '7a8b9c0d-1e2f-4a3b-8c5d-6e7f8a9b0c1d';
export const EXAMPLE_CAMPAIGN_ID = 'c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f';
export const EXAMPLE_UPLOAD_ID = 'e5f6a7b8-c9d0-4e1f-a2b3-c4d5e6f7a8b9';
export const EXAMPLE_API_KEY_ID = '9d8c7b6a-5f4e-4d3c-b2a1-0f9e8d7c6b5a';
export const EXAMPLE_ENDPOINT_ID = '4b5c6d7e-8f9a-4b0c-9d1e-2f3a4b5c6d7e';
export const EXAMPLE_POOL_ID = '5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f';
export const EXAMPLE_PORTFOLIO_ID = '6d7e8f9a-0b1c-4d2e-9f3a-4b5c6d7e8f9a';
export const EXAMPLE_TIME = '2026-11-22T14:03:00.000Z';
export const EXAMPLE_LATER = '2026-11-22T14:41:12.000Z';
