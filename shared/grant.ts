// Builds and signs the RFC 7523 JWT grant for Maskinporten (../shared/protocol.md §1): only documented claims,
// a fresh jti every time, exp within 120 s of iat.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SystemUser } from './config.js';
import type { SigningKey } from './key.js';

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

/** Signs a new grant; never reuse the result. */
export async function signGrant(req: GrantRequest, key: SigningKey, nowMs: number): Promise<string> {
  return new SignJWT(grantClaims(req, nowMs)).setProtectedHeader({ alg: key.alg, kid: key.kid }).sign(key.key);
}
