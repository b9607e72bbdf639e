// Maskinporten token endpoint client (docs/protocol.md, The token request): posts the signed grant form-encoded and turns
// the answer into a token or an error carrying only safe facts (status, OAuth error, MP code, trace id).
import { UpstreamRejectedError, UpstreamUnavailableError } from '../errors.js';
import { redact, registerSecret } from '../logging.js';
import { noteMaskinportenTraceId } from '../telemetry/instruments.js';
import { send, type FetchLike } from '../upstream/http-client.js';

export interface MaskinportenToken {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly scope?: string;
}

const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** What to do about each documented Maskinporten error code. */
const HINTS: Record<string, string> = {
  'MP-100': 'the client id is unknown in this environment: check MASKINPORTEN_CLIENT_ID and MASKINPORTEN_ENV',
  'MP-110': 'the audience is wrong: check MASKINPORTEN_ENV / MASKINPORTEN_ISSUER',
  'MP-120': 'the certificate is invalid: register a JWK key and set MASKINPORTEN_KID',
  'MP-121': 'the key has expired (keys live one year): register a new key in the self-service portal',
  'MP-122': 'the certificate belongs to another organisation',
  'MP-123': 'x5c must be an array',
  'MP-124': 'the signature does not match the registered key: check the key secret and MASKINPORTEN_KID',
  'MP-130': 'the grant had expired on arrival: check this machine\'s clock',
  'MP-011': 'the grant is malformed',
  'MP-012': 'the grant id (jti) was reused',
  'MP-200': 'a scope is not registered on the client: check MASKINPORTEN_SCOPES against the self-service portal',
  'MP-201': 'a scope is not allowed for Maskinporten clients',
  'MP-250': 'the organisation has no access to a scope: ask the scope owner for access',
  'MP-251': 'the consumer has not delegated the scope to this supplier: check MASKINPORTEN_CONSUMER_ORG and the delegation in Altinn',
  'MP-301': 'unknown authorization_details type',
  'MP-302': 'unknown authorization_details field',
  'MP-303': 'no matching system user: check ALTINN_SYSTEMUSER_ORG and that the system user is approved',
};

export async function requestMaskinportenToken(
  fetchImpl: FetchLike,
  tokenUrl: string,
  assertion: string,
  timeoutMs: number,
): Promise<MaskinportenToken> {
  const res = await send(
    fetchImpl,
    tokenUrl,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: GRANT_TYPE, assertion }).toString(),
    },
    timeoutMs,
    'Maskinporten',
    'MASKINPORTEN_UNAVAILABLE',
  );
  if (res.status !== 200) throw rejection(res.status, res.body);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    throw new UpstreamUnavailableError('MASKINPORTEN_BAD_RESPONSE', 'Maskinporten answered 200 with a body that is not JSON; will retry.', { status: 200 });
  }
  const { access_token: accessToken, expires_in: expiresIn, scope } = json ?? {};
  if (typeof accessToken === 'string') registerSecret(accessToken);
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new UpstreamUnavailableError('MASKINPORTEN_BAD_RESPONSE', 'Maskinporten answered 200 without an access_token; will retry.', { status: 200 });
  }
  return {
    accessToken,
    expiresIn: typeof expiresIn === 'number' ? expiresIn : 0,
    ...(typeof scope === 'string' && { scope }),
  };
}

/** The longest part of Maskinporten's error_description passed on. */
export const MAX_DESCRIPTION_LENGTH = 300;

/**
 * Maskinporten's own explanation, safe to show: control and invisible formatting characters removed (no forged log
 * lines, no reordered text), whitespace collapsed, redacted, at most MAX_DESCRIPTION_LENGTH characters.
 */
export function sanitizeDescription(text: string): string | undefined {
  const clean = redact(text.replace(/[\p{Cc}\p{Cf}\u2028\u2029]+/gu, ' ').replace(/\s+/g, ' ').trim());
  if (clean === '') return undefined;
  const chars = [...clean];
  return chars.length <= MAX_DESCRIPTION_LENGTH ? clean : `${chars.slice(0, MAX_DESCRIPTION_LENGTH - 1).join('')}…`;
}

/** An `MP-nnn` code anywhere in the text, in any letter case, as `MP-nnn`. */
function findMpCode(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /\bMP-(\d{3})\b/i.exec(text);
  return m ? `MP-${m[1]}` : undefined;
}

function rejection(status: number, body: string): UpstreamRejectedError {
  let error: string | undefined;
  let mpCode: string | undefined;
  let traceId: string | undefined;
  let description: string | undefined;
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    if (typeof json.error === 'string' && /^[a-z_]{1,64}$/.test(json.error)) error = json.error;
    mpCode = findMpCode(json.error_uri) ?? findMpCode(json.error_description);
    if (typeof json.error_description === 'string') {
      traceId = /trace[ _-]?id[:=\s]*([A-Za-z0-9-]{6,64})/i.exec(json.error_description)?.[1];
      description = sanitizeDescription(json.error_description);
      if (traceId) noteMaskinportenTraceId(traceId);
    }
  } catch {
    // not JSON: report the status only
  }
  const hint = (mpCode && HINTS[mpCode]) ?? hintFor(error);
  const facts = [error, mpCode, traceId && `trace id ${traceId}`].filter(Boolean).join(', ');
  return new UpstreamRejectedError(
    'MASKINPORTEN_REJECTED',
    `Maskinporten rejected the token request (${status}${facts ? `: ${facts}` : ''})${hint ? `: ${hint}` : ''}.` +
      `${description ? ` Maskinporten says: "${description}"` : ''}`,
    { status, ...(error && { error }), ...(mpCode && { mpCode }), ...(traceId && { traceId }), ...(description && { description }) },
  );
}

function hintFor(error: string | undefined): string | undefined {
  switch (error) {
    case 'invalid_scope':
      return 'check MASKINPORTEN_SCOPES against the scopes registered on the client';
    case 'invalid_grant':
      return 'check MASKINPORTEN_CLIENT_ID, MASKINPORTEN_KID, the key secret and MASKINPORTEN_ENV';
    case 'invalid_client':
      return 'check MASKINPORTEN_CLIENT_ID and MASKINPORTEN_ENV';
    default:
      return undefined;
  }
}
