// Altinn token exchange client (docs/protocol.md, The Altinn token exchange): trades a Maskinporten token for an Altinn token.
// Accepts plain-text and JSON-quoted bodies; refusals carry only the status.
// Area altinn/: Altinn's token exchange. Uses upstream/ for HTTP; never maskinporten/, verify/ or the broker.
import { UpstreamRejectedError, UpstreamUnavailableError } from '../errors.js';
import { registerSecret } from '../logging.js';
import { send, type FetchLike } from '../upstream/http-client.js';

export const EXCHANGE_PATH = '/authentication/api/v1/exchange/maskinporten';

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export async function exchangeForAltinnToken(
  fetchImpl: FetchLike,
  altinnUrl: string,
  maskinportenToken: string,
  timeoutMs: number,
): Promise<string> {
  const res = await send(
    fetchImpl,
    `${altinnUrl}${EXCHANGE_PATH}`,
    { method: 'GET', headers: { authorization: `Bearer ${maskinportenToken}`, accept: 'text/plain, application/json' } },
    timeoutMs,
    'Altinn',
    'ALTINN_UNAVAILABLE',
  );
  if (res.status === 401) {
    // Altinn answers 401 to any failure to validate the Maskinporten token, including its own failure to fetch
    // Maskinporten's keys; it does not check scopes here.
    throw new UpstreamRejectedError(
      'ALTINN_REJECTED',
      'Altinn could not validate the Maskinporten token (401): the token is from another environment (check that MASKINPORTEN_ENV / MASKINPORTEN_ISSUER and ALTINN_URL name the same one), it had expired on arrival (check this machine\'s clock), or Altinn could not fetch Maskinporten\'s keys (try again later).',
      { status: 401 },
    );
  }
  if (res.status === 403) {
    throw new UpstreamRejectedError('ALTINN_REJECTED', 'Altinn refused the Maskinporten token (403): check that the client has the scopes Altinn requires.', { status: 403 });
  }
  if (res.status !== 200) {
    throw new UpstreamRejectedError('ALTINN_REJECTED', `Altinn answered ${res.status} to the token exchange: check ALTINN_URL.`, { status: res.status });
  }
  const token = unquote(res.body.trim());
  registerSecret(token);
  if (!JWT_SHAPE.test(token)) {
    throw new UpstreamUnavailableError('ALTINN_BAD_RESPONSE', 'Altinn answered 200 with a body that is not a token; will retry.', { status: 200 });
  }
  return token;
}

function unquote(body: string): string {
  if (!body.startsWith('"')) return body;
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'string' ? parsed.trim() : '';
  } catch {
    return '';
  }
}
