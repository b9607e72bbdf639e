// Sends one HTTP request to Maskinporten or Altinn with a timeout and classifies the outcome: a network error,
// timeout, 5xx or 429 becomes UpstreamUnavailableError (retryable); the caller interprets other statuses.
// Area upstream/: one outbound HTTP call with its timeout and classification, and the retry policy. Uses errors
// and telemetry/; never a protocol area (they use it).
import { UpstreamUnavailableError, type BrokerErrorCode } from '../errors.js';
import { parseRetryAfter } from './retry.js';
import { upstreamCall, type UpstreamResult } from '../telemetry/instruments.js';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

/** Upstream bodies are read up to this size; anything longer is not a token answer. */
const MAX_BODY_BYTES = 256 * 1024;

export function send(
  fetchImpl: FetchLike,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  service: 'Maskinporten' | 'Altinn',
  unavailableCode: BrokerErrorCode,
): Promise<UpstreamResponse> {
  const call = { upstream: service === 'Altinn' ? 'altinn' : 'maskinporten', method: init.method ?? 'GET', url, operation: url.includes('/.well-known/') ? 'metadata' : service === 'Altinn' ? 'exchange' : 'token' } as const;
  return upstreamCall(call, (result) => sendOnce(fetchImpl, url, init, timeoutMs, service, unavailableCode, result));
}

/** One request, in the span and duration metric of telemetry/instruments.ts's upstreamCall (`result` gets the status). */
async function sendOnce(
  fetchImpl: FetchLike,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  service: 'Maskinporten' | 'Altinn',
  unavailableCode: BrokerErrorCode,
  result: UpstreamResult,
): Promise<UpstreamResponse> {
  let res: Response;
  let body: string;
  try {
    res = await fetchImpl(url, { ...init, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    body = await res.text();
  } catch (err) {
    // by name, not instanceof: the DOMException may come from another realm
    const name = (err as { name?: unknown } | null)?.name;
    const timedOut = name === 'TimeoutError' || name === 'AbortError';
    result.errorType = timedOut ? 'timeout' : networkReason(err).replace(' ', '_');
    throw new UpstreamUnavailableError(
      unavailableCode,
      timedOut
        ? `${service} did not answer within ${timeoutMs} ms (HTTP_TIMEOUT_MS); will retry.`
        : `${service} could not be reached (${networkReason(err)}); check the URL setting and outbound network access.`,
      {},
    );
  }
  result.status = res.status;
  if (res.status >= 500 || res.status === 429) {
    const retryAfterSeconds = parseRetryAfter(res.headers.get('retry-after'));
    throw new UpstreamUnavailableError(
      unavailableCode,
      `${service} answered ${res.status}${res.status === 429 ? ' (too many requests)' : ''}; will retry.`,
      { status: res.status, ...(retryAfterSeconds !== undefined && { retryAfterSeconds }) },
    );
  }
  return { status: res.status, headers: res.headers, body: body.length > MAX_BODY_BYTES ? '' : body };
}

/** A safe, short reason for a network failure: an error code such as ECONNREFUSED, never a message with data. */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' && /^[A-Z_]+$/.test(cause.code) ? cause.code : 'network error';
}
