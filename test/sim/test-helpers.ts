// Helpers for the simulator tests: a Maskinporten client with an RSA key of its own, raw grant signing (any header,
// any claims, so tests can build deliberately bad grants) and the token request itself.
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, importJWK, type JWK, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { testSigningKeyPair } from '../helpers/key-pool.js';
import type { MaskinportenSim, SimClient } from './maskinporten-sim.js';

export interface TestClient {
  clientId: string;
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
  simClient: SimClient;
}

/** A client with an RSA 2048 key of its own (key-pool.ts) whose public JWK (with kid, no alg) is registered in `simClient`. */
export async function makeTestClient(overrides: Partial<SimClient> = {}): Promise<TestClient> {
  const { privateKey, publicKey } = await testSigningKeyPair('client', { extractable: true });
  const kid = `test-TEST.${randomUUID().slice(0, 8)}`;
  const clientId = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid };
  const privateJwk = { ...(await exportJWK(privateKey)), kid };
  const simClient: SimClient = { clientId, scopes: ['altinn:serviceowner', 'test:read'], keys: [publicJwk], ...overrides };
  return { clientId, kid, privateJwk, publicJwk, simClient };
}

/** Signs `claims` with `header` as given (alg from the header; the key is imported for that alg). */
export async function signGrant(privateJwk: JWK, header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
  const alg = header.alg as string;
  const key = await importJWK({ ...privateJwk, alg }, alg);
  return new SignJWT(claims as JWTPayload).setProtectedHeader(header as unknown as JWTHeaderParameters).sign(key);
}

/** Good grant claims for `client` at `nowMs`, overridden (or removed, with undefined) by `extra`. */
export function grantClaims(issuer: string, clientId: string, nowMs = Date.now(), extra: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(nowMs / 1000);
  const claims: Record<string, unknown> = { aud: issuer, iss: clientId, iat, exp: iat + 60, jti: randomUUID(), scope: 'altinn:serviceowner', ...extra };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return claims;
}

export async function postGrant(tokenEndpoint: string, assertion: string, extraForm: Record<string, string> = {}): Promise<Response> {
  const form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion, ...extraForm });
  return fetch(tokenEndpoint, { method: 'POST', body: form });
}

/** A Maskinporten access token for `client` from `sim` (throws unless 200). */
export async function fetchAccessToken(sim: MaskinportenSim, client: TestClient, extra: Record<string, unknown> = {}, nowMs = Date.now()): Promise<string> {
  const assertion = await signGrant(client.privateJwk, { alg: 'RS256', kid: client.kid }, grantClaims(sim.issuer, client.clientId, nowMs, extra));
  const res = await postGrant(sim.tokenEndpoint, assertion);
  const body = (await res.json()) as { access_token?: string; error_description?: string };
  if (res.status !== 200 || !body.access_token) throw new Error(`token request failed: ${res.status} ${body.error_description}`);
  return body.access_token;
}
