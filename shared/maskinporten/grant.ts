// Builds and signs the RFC 7523 JWT grant for Maskinporten (docs/protocol.md, The JWT grant): only documented claims,
// a fresh jti every time, exp within 120 s of iat. The compact JWS is assembled here and signed with node:crypto
// directly: a JWS is base64url(header).base64url(claims).base64url(RSASSA-PKCS1-v1_5 signature), and a library
// round trip through WebCrypto cost 30-60% more per grant (npm run bench).
// Area maskinporten/: Maskinporten's protocol (the grant, the token endpoint and its error codes). Uses the signer
// port of keys/, upstream/ for HTTP, telemetry/; never the vault, verification or the broker (they use it).
import { randomUUID, sign } from 'node:crypto';
import type { SystemUser } from '../config/config.js';
import { isGrantSigner, type GrantKey, type GrantSigner } from '../keys/signer.js';
import { registerSecret } from '../logging.js';
import { grantSigned } from '../telemetry/instruments.js';

export const GRANT_LIFETIME_SECONDS = 120;

export interface GrantRequest {
  readonly clientId: string;
  /** The Maskinporten issuer, with trailing slash. */
  readonly audience: string;
  readonly scopes: readonly string[];
  readonly resource?: readonly string[];
  readonly consumerOrg?: string;
  readonly systemUser?: SystemUser;
}

/** The claim set of a grant, exactly as sent (exported for tests and the simulators). */
export function grantClaims(req: GrantRequest, nowMs: number): Record<string, unknown> {
  const iat = Math.floor(nowMs / 1000);
  return {
    aud: req.audience,
    iss: req.clientId,
    scope: req.scopes.join(' '),
    iat,
    exp: iat + GRANT_LIFETIME_SECONDS,
    jti: randomUUID(),
    ...(req.resource && req.resource.length > 0 && { resource: [...req.resource] }),
    ...(req.consumerOrg !== undefined && { consumer_org: req.consumerOrg }),
    ...(req.systemUser && {
      authorization_details: [
        {
          type: 'urn:altinn:systemuser',
          systemuser_org: { authority: 'iso6523-actorid-upis', ID: req.systemUser.orgId },
          ...(req.systemUser.externalRef !== undefined && { externalRef: req.systemUser.externalRef }),
        },
      ],
    }),
  };
}

const HASH = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' } as const;

const b64url = (json: unknown): string => Buffer.from(JSON.stringify(json)).toString('base64url');

/** Signs a new grant through `signer`: the same header members in the same order and the same claims as signGrant,
 *  only the signature comes from the signer. */
export async function signGrantWith(req: GrantRequest, signer: GrantSigner, nowMs: number): Promise<string> {
  const header = signer.x5c ? { alg: signer.alg, x5c: [...signer.x5c] } : { alg: signer.alg, kid: signer.kid };
  const input = `${b64url(header)}.${b64url(grantClaims(req, nowMs))}`;
  const grant = `${input}.${(await signer.sign(Buffer.from(input))).toString('base64url')}`;
  grantSigned(signer.x5c ? 'certificate' : 'vault-key');
  return grant;
}

/** Signs a new grant; never reuse the result. */
export async function signGrant(req: GrantRequest, key: GrantKey, nowMs: number): Promise<string> {
  if (isGrantSigner(key)) return signGrantWith(req, key, nowMs);
  const input = `${b64url({ alg: key.alg, kid: key.kid })}.${b64url(grantClaims(req, nowMs))}`;
  const grant = `${input}.${sign(HASH[key.alg], Buffer.from(input), key.key).toString('base64url')}`;
  registerSecret(grant);
  grantSigned('secret');
  return grant;
}
