// No leaks: runs the broker through many scenarios (success, upstream failures, bad keys, bad settings, vault
// errors) via the local host over HTTP, collects every log line and every HTTP answer, and fails if any holds a
// private key member, the stored key, a grant or a token (the token endpoint's own 200 body is the one place a
// token belongs, so only that body may carry one). With caller authorization on, the callers' Entra ID tokens
// (good, forged, expired) must not come back in any 401/403 answer, audit line or other log line either.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { parseConfig } from '../../shared/config/config.js';
import { contextLogger } from '../../shared/http/context-logger.js';
import { loadFunctions } from '../../shared/local/functions.js';
import { startHost, type RunningHost } from '../../shared/local/host.js';
import { Runtime, setRuntime } from '../../shared/runtime.js';
import type { FetchLike } from '../../shared/upstream/http-client.js';
import { b64, json, privateMembers, rsaKey } from '../helpers/keys.js';
import { startWorld, type World } from '../helpers/world.js';

let world: World;
let host: RunningHost;
const logs: string[] = [];
const bodies: string[] = [];
const tokenBodies: string[] = [];
const grants = new Set<string>();
const upstreamTokens = new Set<string>();
const callerTokens = new Set<string>();

/** Real fetch, recording every grant sent and every token received so the test knows what must never leak. */
const recordingFetch: FetchLike = async (url, init) => {
  if (typeof init.body === 'string') {
    const assertion = new URLSearchParams(init.body).get('assertion');
    if (assertion) grants.add(assertion);
  }
  const res = await fetch(url, init);
  const text = await res.clone().text();
  const mp = /"access_token":"([^"]+)"/.exec(text)?.[1];
  if (mp) upstreamTokens.add(mp);
  else if (/^"?eyJ/.test(text)) upstreamTokens.add(text.replace(/"/g, ''));
  return res;
};

function use(env: Record<string, string>): void {
  setRuntime(new Runtime(parseConfig(env), { fetch: recordingFetch, now: world.clock.now, retry: { baseDelayMs: 2, maxDelayMs: 5 } }));
}

async function call(method: string, path: string, callerToken?: string): Promise<number> {
  if (callerToken) callerTokens.add(callerToken);
  const headers: Record<string, string> = callerToken ? { authorization: `Bearer ${callerToken}` } : {};
  const res = await fetch(`${host.url}${path}`, { method, headers });
  const text = await res.text();
  const entry = `${res.status} ${JSON.stringify([...res.headers])} ${text}`;
  if (method === 'GET' && path.startsWith('/api/token') && res.status === 200) tokenBodies.push(entry);
  else bodies.push(entry);
  return res.status;
}

async function runTimer(): Promise<void> {
  await call('POST', '/admin/functions/refreshTokens');
  await new Promise((r) => setTimeout(r, 300));
}

beforeAll(async () => {
  world = await startWorld();
  host = await startHost({
    port: 0,
    ...(await loadFunctions()),
    schedule: false,
    log: (level, fn, message) => void logs.push(`${level} ${fn} ${message}`),
  });
});

afterAll(async () => {
  setRuntime(undefined);
  await host.close();
  await world.close();
});

describe('no secret material leaves the broker', () => {
  test('scenarios run and answer as expected', async () => {
    const { env, sims } = world;
    // success, warm, health, timer
    use(env);
    expect(await call('GET', '/api/token')).toBe(200);
    expect(await call('GET', '/api/token')).toBe(200);
    expect(await call('GET', '/api/health')).toBe(200);
    await runTimer();
    // upstream failures with nothing valid to serve
    use({ ...env, TOKEN_SECRET: 'leak-1', MASKINPORTEN_SCOPES: 'not:registered' });
    expect(await call('GET', '/api/token')).toBe(503);
    use({ ...env, TOKEN_SECRET: 'leak-2', MASKINPORTEN_KID: 'unknown-kid' });
    expect(await call('GET', '/api/token')).toBe(503);
    use({ ...env, TOKEN_SECRET: 'leak-3', RETRY_MAX_ATTEMPTS: '2' });
    sims.maskinporten.faults.enqueue({ status: 500 }, { malformed: true });
    expect(await call('GET', '/api/token')).toBe(503);
    use({ ...env, TOKEN_SECRET: 'leak-4', RETRY_MAX_ATTEMPTS: '1' });
    sims.altinn.faults.enqueue({ status: 401 }, { status: 401 }); // a 401 is tried once more with a new token
    expect(await call('GET', '/api/token')).toBe(503);
    use({ ...env, TOKEN_SECRET: 'leak-5', RETRY_MAX_ATTEMPTS: '1' });
    sims.altinn.faults.enqueue({ malformed: true });
    expect(await call('GET', '/api/token')).toBe(503);
    await runTimer();
    // a failed refresh while a good token is still valid: served, logged
    use({ ...env, TOKEN_SECRET: 'leak-6', RETRY_MAX_ATTEMPTS: '1' });
    sims.maskinporten.faults.enqueue({ status: 503 });
    expect(await call('GET', '/api/token')).toBe(503);
    expect(await call('GET', '/api/token')).toBe(200);
    world.clock.advance(1_790_000); // 10 s left of the 30-minute Altinn token: below MIN_TOKEN_TTL_SECONDS
    sims.maskinporten.faults.enqueue({ status: 503 });
    expect(await call('GET', '/api/token')).toBe(200);
    // vault trouble: write fails (token still served), key unreadable
    use({ ...env, TOKEN_SECRET: 'leak-7' });
    sims.keyVault.faults.enqueue({}, {}, {}, { status: 500 }, { status: 500 }, { status: 500 }, { status: 500 });
    expect(await call('GET', '/api/token')).toBe(200);
    use({ ...env, TOKEN_SECRET: 'leak-8' });
    sims.keyVault.disableSecret(world.keySecret);
    expect(await call('GET', '/api/token')).toBe(503);
    // bad keys in the vault
    const k = world.key;
    const badKeys = [b64(json(k.publicJwk)), b64('garbage that is not a key'), `${b64(json(k.jwk)).slice(0, 300)}!`, json({ ...k.jwk, p: 'AAAA' })];
    for (const [i, value] of badKeys.entries()) {
      sims.keyVault.setSecret(`bad-key-${i}`, value);
      use({ ...env, TOKEN_SECRET: `leak-bad-${i}`, MASKINPORTEN_KEY_SECRET: `bad-key-${i}` });
      expect(await call('GET', '/api/token')).toBe(503);
      await runTimer();
    }
    // bad settings and unknown profile
    setRuntime(undefined);
    expect(await call('GET', '/api/token')).toBe(500);
    expect(await call('GET', '/api/health')).toBe(503);
    use(env);
    expect(await call('GET', '/api/token/nope')).toBe(404);
    // caller authorization on: refusals and served tokens, each with an audit line
    const { entra } = sims;
    sims.keyVault.setSecret(world.keySecret, b64(json(k.jwk))); // an enabled key again (disabled above)
    use({ ...env, ...entra.settings(), PROFILE__extra__MASKINPORTEN_SCOPES: 'extra:scope' });
    expect(await call('GET', '/api/token')).toBe(401);
    expect(await call('GET', '/api/token', await entra.issueToken({ roles: ['Tokens.Read.All'], expiresIn: -3600 }))).toBe(401);
    expect(await call('GET', '/api/token', await entra.issueToken({ roles: ['Tokens.Read.All'], kid: 'forged' }))).toBe(401);
    expect(await call('GET', '/api/token', await entra.issueToken({ roles: ['Tokens.Read.All'], aud: 'api://other' }))).toBe(401);
    expect(await call('GET', '/api/token', await entra.issueToken({ roles: ['Tokens.Read.extra'] }))).toBe(403);
    expect(await call('GET', '/api/health/details', await entra.issueToken({ roles: ['Tokens.Read.All'] }))).toBe(403);
    expect(await call('GET', '/api/health/details', await entra.issueToken({ roles: ['Health.Read'] }))).toBe(200);
    expect(await call('GET', '/api/token/extra', await entra.issueToken({ roles: ['Tokens.Read.extra'] }))).toBe(200);
    expect(await call('GET', '/api/token', await entra.issueToken({ roles: ['Tokens.Read.All'] }))).toBe(200);
    expect(await call('GET', '/api/health')).toBe(200);
    // operator actions: refused without Tokens.Admin; a forced refresh and a drop answer with fingerprints only
    expect(await call('POST', '/api/manage/refresh', await entra.issueToken({ roles: ['Tokens.Read.All'] }))).toBe(403);
    expect(await call('POST', '/api/manage/refresh', await entra.issueToken({ roles: ['Tokens.Admin'] }))).toBe(200);
    expect(await call('POST', '/api/manage/drop/extra', await entra.issueToken({ roles: ['Tokens.Admin'] }))).toBe(200);
    expect(await call('GET', '/api/token/extra', await entra.issueToken({ roles: ['Tokens.Read.extra'] }))).toBe(200);
    expect(logs.filter((l) => l.includes('{"audit":"manage"')).length).toBe(3);
    expect(logs.filter((l) => l.includes('{"audit":"token"')).length).toBeGreaterThanOrEqual(7);
    expect(grants.size).toBeGreaterThanOrEqual(5);
    expect(upstreamTokens.size).toBeGreaterThanOrEqual(3);
    expect(logs.length).toBeGreaterThan(20);
  });

  test('no log line or HTTP answer contains a key member, the stored key, a grant or a token', () => {
    const k = world.key;
    const forbidden = [
      ...privateMembers(k.jwk),
      b64(json(k.jwk)).slice(0, 40),
      ...k.pkcs8.split('\n').slice(1, 3),
      ...grants,
      ...[...grants].map((g) => g.split('.')[2]!),
      ...upstreamTokens,
      ...world.sims.keyVault.listVersions('altinn-token').map((v) => v.value),
      ...world.sims.keyVault.listVersions('altinn-token-extra').map((v) => v.value),
      ...callerTokens,
      ...[...callerTokens].map((t) => t.split('.')[2]!),
    ];
    expect(callerTokens.size).toBeGreaterThanOrEqual(8);
    const everything = [...logs, ...bodies];
    for (const text of everything) {
      for (const secret of forbidden) expect(text.includes(secret) ? `leak in: ${text.slice(0, 120)}` : 'clean').toBe('clean');
      expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
    }
    const audits = logs.filter((l) => l.includes('{"audit":'));
    expect(audits.length).toBeGreaterThanOrEqual(9);
    for (const line of audits) expect(line).toMatch(/"(token|dropped)Fingerprint":"sha256:[0-9a-f]{16}"|"outcome":"(refused|failed)"/);
    const keyOnly = [...privateMembers(k.jwk), ...grants, ...callerTokens];
    for (const text of tokenBodies) for (const secret of keyOnly) expect(text.includes(secret)).toBe(false);
  });
});

describe('redaction by value: what no pattern can recognise', () => {
  /** The product's own logger (the one every function uses), writing into an array. */
  function productLog(): { lines: string[]; log: ReturnType<typeof contextLogger> } {
    const lines: string[] = [];
    const sink = (m: unknown) => void lines.push(String(m));
    return { lines, log: contextLogger({ log: sink, warn: sink, error: sink }) };
  }

  test('a private key inside escaped JSON (as a serialised error or object prints it) never reaches a log', () => {
    const escaped = (jwk: Record<string, unknown>) => `upstream said: {"detail":${JSON.stringify(JSON.stringify(jwk))}}`;
    // Without redaction by value the patterns miss it: a key the broker never decoded goes through in the clear.
    const unseen = rsaKey('unseen');
    const before = productLog();
    before.log.error(escaped(unseen.jwk));
    expect(privateMembers(unseen.jwk).some((m) => before.lines.join('\n').includes(m))).toBe(true);
    // The world's key was decoded by the broker in the scenarios above: each of its members is redacted.
    const after = productLog();
    after.log.error(escaped(world.key.jwk));
    after.log.warn(`secret value was ${JSON.stringify(b64(json(world.key.jwk)).slice(0, 100))}`);
    const text = after.lines.join('\n');
    for (const member of privateMembers(world.key.jwk)) expect(text).not.toContain(member);
    expect(text).toContain('[REDACTED]');
  });

  test('a Maskinporten token that is not a JWT (opaque, no "eyJ") never reaches a log once the broker received it', async () => {
    const opaque = `mp-opaque.${randomUUID()}`;
    const unseen = `mp-opaque.${randomUUID()}`;
    world.sims.maskinporten.faults.enqueue({ status: 200, body: JSON.stringify({ access_token: opaque, token_type: 'Bearer', expires_in: 120, scope: 'altinn:serviceowner' }) });
    world.sims.keyVault.setSecret('opaque-key', b64(json(world.key.jwk)));
    use({ ...world.env, TOKEN_SECRET: 'leak-opaque', MASKINPORTEN_KEY_SECRET: 'opaque-key', ALTINN_EXCHANGE: 'false', RETRY_MAX_ATTEMPTS: '1' });
    const served = world.sims.maskinporten.requests.length;
    // Served as Maskinporten returned it, or refused as unverifiable: either way the broker received it.
    expect([200, 503]).toContain(await call('GET', '/api/token'));
    expect(world.sims.maskinporten.requests.length).toBe(served + 1);
    for (const text of [...logs, ...bodies]) expect(text).not.toContain(opaque);
    const { lines, log } = productLog();
    log.info(`token: ${opaque}; as JSON ${JSON.stringify({ t: opaque })}`);
    log.info(`other: ${unseen}`);
    expect(lines[0]).not.toContain(opaque);
    expect(lines[0]).toBe('token: [REDACTED]; as JSON {"t":"[REDACTED]"}');
    // The same shape the broker never received passes: only redaction by value catches such a token.
    expect(lines[1]).toBe(`other: ${unseen}`);
  });

});
