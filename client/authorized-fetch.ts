// fetch() with `Authorization: Bearer <token>` from a token source; on a 401 from the API it drops that token,
// gets a fresh one and sends the request once more.
import type { AccessToken } from './token-cache.js';

export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface TokenSourcePort {
  get(): Promise<AccessToken>;
  invalidate(token: string): void;
}

export async function authorizedFetch(
  source: TokenSourcePort,
  doFetch: FetchFunction,
  input: string | URL | Request,
  init?: RequestInit,
): Promise<Response> {
  const first = await source.get();
  const request = new Request(input, init);
  // A body can be sent only once: keep a copy for the retry (a stream body is teed, not read twice).
  const spare = request.clone();
  request.headers.set('authorization', `Bearer ${first.token}`);
  const res = await doFetch(request);
  if (res.status !== 401) return res;
  await res.body?.cancel().catch(() => undefined);
  source.invalidate(first.token);
  const fresh = await source.get();
  spare.headers.set('authorization', `Bearer ${fresh.token}`);
  return doFetch(spare);
}
