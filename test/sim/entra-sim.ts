// A small Entra ID (Microsoft identity platform) stand-in on 127.0.0.1 for caller authorization: publishes the
// tenant's signing keys at {authority}/{tenant}/discovery/v2.0/keys (and the OpenID metadata), and issues v1- or
// v2-style app-only access tokens signed with jose, with whatever roles, ids, audience and times a test asks for.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignJWT, exportJWK, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { testSigningKeyPair } from '../helpers/key-pool.js';
import { FaultQueue } from './faults.js';
import { listen, requestUrl, sendJson } from './http-util.js';

export interface EntraSimOptions {
  /** Tenant id (GUID); default a fixed test tenant. */
  tenantId?: string;
  /** Clock in ms for iat/nbf/exp; default Date.now. */
  now?: () => number;
  /** Default `aud` of issued tokens. */
  audience?: string;
}

export interface IssueOptions {
  roles?: string[];
  /** Caller object id; default a fresh GUID. */
  oid?: string;
  /** Calling application's client id (`azp` in v2, `appid` in v1); default a fresh GUID. */
  appId?: string;
  /** 2 (default): iss {authority}/{tenant}/v2.0 and azp; 1: iss https://sts.windows.net/{tenant}/ and appid. */
  version?: 1 | 2;
  aud?: string;
  /** Overrides the issuer (e.g. another tenant's). */
  iss?: string;
  tid?: string;
  /** Seconds from now (default 3600); negative for an expired token. */
  expiresIn?: number;
  /** Seconds from now for nbf (default -5 s, as Entra backdates it). */
  notBeforeIn?: number;
  /** Signs with this kid instead of the current key's (an unknown kid with the current key). */
  kid?: string;
  /** Extra or overriding claims. */
  claims?: Record<string, unknown>;
}

export interface EntraSim {
  /** The authority, `http://127.0.0.1:PORT` (AUTH_AUTHORITY). */
  readonly url: string;
  readonly tenantId: string;
  readonly jwksUri: string;
  /** The v2 issuer for this tenant. */
  readonly issuer: string;
  readonly audience: string;
  /** GET requests answered on the keys route. */
  readonly jwksRequests: number;
  readonly faults: FaultQueue;
  /** The current signing key, for tests that need to sign something odd with it. */
  readonly signingKey: { readonly kid: string; readonly privateKey: CryptoKey; readonly publicJwk: JWK };
  /** An app-only access token for this tenant (or as overridden). */
  issueToken(o?: IssueOptions): Promise<string>;
  /** A new signing key becomes current and is published next to the old ones (Entra's key rollover). */
  rotateKey(): Promise<string>;
  /** Settings that point the broker at this simulator. */
  settings(): Record<string, string>;
  close(): Promise<void>;
}

const DEFAULT_TENANT = '7e1f6a52-0000-4000-8000-00000000e17a';

async function newKey(): Promise<{ kid: string; privateKey: CryptoKey; publicJwk: JWK }> {
  const { privateKey, publicKey } = await testSigningKeyPair('entra', { extractable: true });
  const kid = randomUUID().replace(/-/g, '').slice(0, 27);
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, kty: 'RSA', use: 'sig' } };
}

export async function startEntraSim(opts: EntraSimOptions = {}): Promise<EntraSim> {
  const now = opts.now ?? Date.now;
  const tenantId = opts.tenantId ?? DEFAULT_TENANT;
  const audience = opts.audience ?? 'api://maskinporten-broker';
  const keys = [await newKey()];
  const faults = new FaultQueue();
  let jwksRequests = 0;
  let url = '';

  const server = await listen(async (req: IncomingMessage, res: ServerResponse) => {
    if ((await faults.apply(req, res)) !== 'continue') return;
    const path = requestUrl(req).pathname;
    const m = /^\/([^/]+)\/(discovery\/v2\.0\/keys|v2\.0\/\.well-known\/openid-configuration)$/.exec(path);
    if (req.method !== 'GET' || !m) return sendJson(res, 404, { error: 'not_found' });
    if (m[1] !== tenantId) return sendJson(res, 400, { error: 'invalid_tenant', error_description: `AADSTS90002: Tenant '${m[1]}' not found.` });
    if (m[2]!.startsWith('discovery')) {
      jwksRequests++;
      return sendJson(res, 200, { keys: keys.map((k) => ({ ...k.publicJwk, x5t: k.kid })) });
    }
    return sendJson(res, 200, {
      issuer: `${url}/${tenantId}/v2.0`,
      jwks_uri: `${url}/${tenantId}/discovery/v2.0/keys`,
      token_endpoint: `${url}/${tenantId}/oauth2/v2.0/token`,
      id_token_signing_alg_values_supported: ['RS256'],
    });
  });
  url = server.url;

  async function issueToken(o: IssueOptions = {}): Promise<string> {
    const key = keys.at(-1)!;
    const version = o.version ?? 2;
    const tid = o.tid ?? tenantId;
    const iat = Math.floor(now() / 1000);
    const appId = o.appId ?? randomUUID();
    const claims: JWTPayload = {
      aud: o.aud ?? audience,
      iss: o.iss ?? (version === 2 ? `${url}/${tid}/v2.0` : `https://sts.windows.net/${tid}/`),
      iat,
      nbf: iat + (o.notBeforeIn ?? -5),
      exp: iat + (o.expiresIn ?? 3600),
      tid,
      oid: o.oid ?? randomUUID(),
      sub: o.oid ?? randomUUID(),
      idtyp: 'app',
      ver: version === 2 ? '2.0' : '1.0',
      ...(version === 2 ? { azp: appId, azpacr: '2' } : { appid: appId, appidacr: '2' }),
      ...(o.roles && { roles: o.roles }),
      uti: randomUUID().replace(/-/g, '').slice(0, 22),
      ...o.claims,
    };
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: o.kid ?? key.kid }).sign(key.privateKey);
  }

  return {
    url,
    tenantId,
    jwksUri: `${url}/${tenantId}/discovery/v2.0/keys`,
    issuer: `${url}/${tenantId}/v2.0`,
    audience,
    get jwksRequests() {
      return jwksRequests;
    },
    faults,
    get signingKey() {
      return keys.at(-1)!;
    },
    issueToken,
    async rotateKey() {
      keys.push(await newKey());
      return keys.at(-1)!.kid;
    },
    settings: () => ({ AUTH_TENANT_ID: tenantId, AUTH_AUDIENCE: audience, AUTH_AUTHORITY: url }),
    close: () => {
      faults.dispose();
      return server.close();
    },
  };
}
