/**
 * Prometheus metrics, one registry per process, served at GET /metrics (API key required).
 * Names follow Prometheus conventions; labels never carry phones or secrets (account and campaign
 * ids at most). The engine's own families are added by src/observability (installApiMetrics).
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const webhookRequests = new Counter({
  name: 'wce_webhook_requests_total',
  help: 'Provider webhook requests by provider and result (stored, malformed, bad_signature, unknown_url, unsupported, too_large, replayed, account_mismatch, store_failed, verify_ok, verify_failed).',
  labelNames: ['provider', 'result'] as const,
  registers: [registry],
});

export const webhookStoreSeconds = new Histogram({
  name: 'wce_webhook_store_seconds',
  help: 'Time from a webhook request arriving to its durable store.',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  registers: [registry],
});
