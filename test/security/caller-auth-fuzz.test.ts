// Property tests (fast-check) of caller authorization: arbitrary Authorization headers and JWT-shaped values with
// arbitrary headers and claims, or a real tenant token with one part replaced, never authenticate, never throw,
// and never come back in the error or its challenge.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { base64url } from 'jose';
import { CallerAuth } from '../../shared/callers/caller-auth.js';
import { startEntraSim, type EntraSim } from '../sim/entra-sim.js';

let entra: EntraSim;
let auth: CallerAuth;
let good: string;

beforeAll(async () => {
  entra = await startEntraSim();
  auth = new CallerAuth({ tenantId: entra.tenantId, audiences: [entra.audience], authority: entra.url });
  good = await entra.issueToken({ roles: ['Tokens.Read.All'] });
  expect((await auth.authenticate(`Bearer ${good}`)).ok).toBe(true);
});
afterAll(async () => {
  await entra.close();
});

async function refused(header: string): Promise<void> {
  const r = await auth.authenticate(header);
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(['CALLER_UNAUTHENTICATED', 'CALLER_AUTH_UNAVAILABLE']).toContain(r.error.code);
  const value = header.replace(/^Bearer\s+/i, '');
  if (value.length >= 16) {
    expect(r.error.message).not.toContain(value);
    expect(r.error.challenge ?? '').not.toContain(value);
  }
}

const json = fc.jsonValue().map((v) => base64url.encode(JSON.stringify(v)));
const segment = fc.oneof(fc.string(), json, fc.base64String().map((s) => s.replace(/[+/=]/g, '')));

describe('CallerAuth on arbitrary input', () => {
  test('arbitrary Authorization header values', async () => {
    await fc.assert(fc.asyncProperty(fc.string(), async (s) => refused(s)), { numRuns: 300 });
    await fc.assert(fc.asyncProperty(fc.string(), async (s) => refused(`Bearer ${s}`)), { numRuns: 300 });
  });

  test('JWT-shaped values with arbitrary header, claims and signature', async () => {
    await fc.assert(fc.asyncProperty(segment, segment, segment, async (h, p, s) => refused(`Bearer ${h}.${p}.${s}`)), { numRuns: 300 });
  });

  test('a real tenant token with its header or claims replaced', async () => {
    const [, payload, signature] = good.split('.');
    const claims = fc.dictionary(fc.constantFrom('aud', 'iss', 'tid', 'exp', 'nbf', 'roles', 'oid', 'alg'), fc.jsonValue());
    await fc.assert(
      fc.asyncProperty(claims, async (extra) => {
        const original = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
        const changed = base64url.encode(JSON.stringify({ ...original, ...extra }));
        if (changed === payload) return;
        await refused(`Bearer ${good.split('.')[0]}.${changed}.${signature}`);
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom('alg', 'kid', 'typ', 'jku', 'x5u', 'jwk', 'crit', 'b64'), fc.jsonValue()), async (hdr) => {
        const original = JSON.parse(Buffer.from(good.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
        const changed = base64url.encode(JSON.stringify({ ...original, ...hdr }));
        if (changed === good.split('.')[0]) return;
        await refused(`Bearer ${changed}.${payload}.${signature}`);
      }),
      { numRuns: 150 },
    );
  });
});
