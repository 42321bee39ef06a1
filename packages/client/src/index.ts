import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';

export type { components, operations, paths };

/** A typed client of the Boka API: `client.POST('/api/tenants', { body })` → `{ data, error, response }`. */
export type BokaClient = Client<paths>;
/** The one error body of every 4xx/5xx answer (docs/errors.md). */
export type BokaError = components['schemas']['ErrorResponse'];
/** Every wire error code of the API. */
export type BokaErrorCode = BokaError['code'];

export interface BokaClientOptions {
  /** Where the API is served, e.g. `https://boka.example.com` (no trailing `/api`). */
  readonly baseUrl: string;
  /**
   * Sent as `Authorization: Bearer …`: an access token, or a tenant API key (`boka_sk_…`). A
   * function is asked before every request, so a refreshed token is picked up.
   */
  readonly token?: string | (() => string | undefined);
  /** Another fetch (tests, instrumentation); the global one by default. */
  readonly fetch?: ClientOptions['fetch'];
  /** Extra headers on every request. */
  readonly headers?: Record<string, string>;
}

/**
 * The Boka API client, generated from its OpenAPI document (`npm run client:generate`) over
 * openapi-fetch: paths, parameters, bodies and answers are typed, so a breaking change to a
 * route fails the type check of every caller.
 */
export function createBokaClient(options: BokaClientOptions): BokaClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
  });
  const { token } = options;
  if (token !== undefined) {
    client.use({
      onRequest({ request }) {
        const current = typeof token === 'function' ? token() : token;
        if (current) request.headers.set('authorization', `Bearer ${current}`);
        return request;
      },
    });
  }
  return client;
}
