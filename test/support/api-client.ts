/** A client for the API under test that speaks through app.inject() (no socket), as one tenant. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

export type ApiTenant = { tenantId: string; apiKey: string };

export type Headers = Record<string, string>;

export type ApiClient = {
  get(url: string, headers?: Headers): Promise<LightMyRequestResponse>;
  post(url: string, body?: object, headers?: Headers): Promise<LightMyRequestResponse>;
  patch(url: string, body: object, headers?: Headers): Promise<LightMyRequestResponse>;
  /** A raw body with its own content type (uploads). */
  send(url: string, payload: string | Buffer, contentType: string, headers?: Headers): Promise<LightMyRequestResponse>;
};

/** Sends the key as `Authorization: Bearer`, the documented default. */
export function apiClient(app: FastifyInstance, apiKey: string): ApiClient {
  const auth = { authorization: `Bearer ${apiKey}` };
  return {
    get: (url, headers = {}) => app.inject({ method: 'GET', url, headers: { ...auth, ...headers } }),
    post: (url, body, headers = {}) =>
      body === undefined
        ? app.inject({ method: 'POST', url, headers: { ...auth, ...headers } })
        : app.inject({ method: 'POST', url, headers: { ...auth, ...headers }, payload: body }),
    patch: (url, body, headers = {}) => app.inject({ method: 'PATCH', url, headers: { ...auth, ...headers }, payload: body }),
    send: (url, payload, contentType, headers = {}) =>
      app.inject({ method: 'POST', url, headers: { ...auth, 'content-type': contentType, ...headers }, payload }),
  };
}
