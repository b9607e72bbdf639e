// Health: the anonymous route tells strangers only the overall status, from memory (no vault call, no names);
// the details route is function-key level and, with caller authorization on, needs the Health.Read app role.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { HttpRequest } from '@azure/functions';
import { healthHandler, healthOptions } from '../../functions/health.js';
import { healthDetailsHandler, healthDetailsOptions } from '../../functions/health-details.js';
import { tokenHandler } from '../../functions/token.js';
import { parseConfig } from '../../shared/config/config.js';
import { loadFunctions } from '../../shared/local/functions.js';
import { HEALTH_VAULT_READ_INTERVAL_MS, Runtime, setRuntime } from '../../shared/runtime.js';
import { capture } from '../helpers/capture.js';
import { startWorld, type World } from '../helpers/world.js';

let world: World;
let env: Record<string, string>;

beforeAll(async () => {
  world = await startWorld();
  env = { ...world.env, PROFILE__extra__MASKINPORTEN_SCOPES: 'extra:scope' };
});
afterAll(async () => {
  setRuntime(undefined);
  await world.close();
});

function use(settings: Record<string, string>, runtimeEnv: Record<string, string> = {}): Runtime {
  const runtime = new Runtime(parseConfig(settings), { now: world.clock.now, retry: { baseDelayMs: 5, maxDelayMs: 10 }, env: runtimeEnv });
  setRuntime(runtime);
  return runtime;
}

function get(path: string, headers: Record<string, string> = {}): HttpRequest {
  return new HttpRequest({ method: 'GET', url: `http://127.0.0.1:7071${path}`, headers });
}

/** Secret reads that reached the vault (not counting the SDK's first, unauthenticated challenge request). */
const vaultReads = () => world.sims.keyVault.requests.filter((r) => r.method === 'GET' && r.status !== 401).length;

describe('GET /api/health (anonymous)', () => {
  test('50 calls on a fresh instance: no vault call, only the overall status, no profile or secret name', async () => {
    use(env);
    const before = world.sims.keyVault.requests.length;
    const { context, lines } = capture();
    for (let i = 0; i < 50; i++) {
      const res = await healthHandler(get('/api/health'), context('health'));
      expect(res.status).toBe(200);
      expect(JSON.parse(String(res.body))).toEqual({ status: 'ok' });
      expect(res.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' });
      for (const name of ['default', 'extra', 'altinn-token', 'maskinporten-key', world.clientId]) expect(String(res.body)).not.toContain(name);
    }
    expect(world.sims.keyVault.requests.length).toBe(before);
    expect(lines.join('\n')).not.toMatch(/altinn-token|maskinporten-key/);
  });

  test('a failed start-up key check shows as failing before any refresh; degraded while a stored token is served', async () => {
    const broken = { ...env, PROFILE__extra__MASKINPORTEN_KEY_SECRET: 'missing-key' };
    let runtime = use(broken);
    expect(await runtime.checkKeys(capture().log)).toBe(false);
    let res = await healthHandler(get('/api/health'), capture().context());
    expect(res.status).toBe(503);
    expect(JSON.parse(String(res.body))).toEqual({ status: 'failing' });

    // a valid token for "extra" exists in the vault: a new instance adopts it through the details, then degraded
    use(env);
    const { log } = capture();
    await (await import('../../shared/runtime.js')).getRuntime().broker('extra').getToken(log);
    runtime = use(broken);
    expect(await runtime.checkKeys(capture().log)).toBe(false);
    const details = await healthDetailsHandler(get('/api/health/details'), capture().context());
    const body = JSON.parse(String(details.body)) as { status: string; profiles: Array<Record<string, unknown>> };
    expect(body.status).toBe('degraded');
    expect(body.profiles.find((p) => p.profile === 'extra')).toMatchObject({ keyCheck: { outcome: 'failed', errorCode: 'KEY_NOT_FOUND' }, tokenSource: 'vault' });
    res = await healthHandler(get('/api/health'), capture().context());
    expect(res.status).toBe(200);
    expect(JSON.parse(String(res.body))).toEqual({ status: 'degraded' });
  });

  test('misconfigured: 503 with the status word only', async () => {
    setRuntime(undefined);
    const saved = { ...process.env };
    try {
      delete process.env.KEY_VAULT_URL;
      const res = await healthHandler(get('/api/health'), capture().context());
      expect(res.status).toBe(503);
      expect(JSON.parse(String(res.body))).toEqual({ status: 'misconfigured' });
    } finally {
      process.env = saved;
      setRuntime(undefined);
    }
  });
});

describe('GET /api/health/details', () => {
  test('is registered with function-level auth at health/details; /api/health stays anonymous', async () => {
    expect(healthDetailsOptions).toMatchObject({ authLevel: 'function', route: 'health/details', methods: ['GET'] });
    expect(healthOptions).toMatchObject({ authLevel: 'anonymous', route: 'health' });
    const { http } = await loadFunctions();
    expect(http.find((f) => f.options.route === 'health/details')?.options).toBe(healthDetailsOptions);
  });

  test('says when caller authorization is off, and reads each stored token at most once a minute', async () => {
    const three = { ...env, PROFILE__third__MASKINPORTEN_SCOPES: 'extra:scope', PROFILE__third__TOKEN_SECRET: 'never-written' };
    use(three);
    await tokenHandler(get('/api/token'), capture().context());
    use(three); // a fresh instance
    const before = vaultReads();
    let body: Record<string, unknown> = {};
    for (let i = 0; i < 20; i++) {
      const res = await healthDetailsHandler(get('/api/health/details'), capture().context());
      expect(res.headers).toMatchObject({ 'x-content-type-options': 'nosniff' });
      body = JSON.parse(String(res.body)) as Record<string, unknown>;
    }
    expect(vaultReads() - before).toBe(3); // each profile once
    expect(body).toMatchObject({ status: 'ok', configured: true, callerAuthorization: 'off', profiles: [{ profile: 'default', tokenSource: 'vault' }, { profile: 'extra' }, { profile: 'third' }] });
    world.clock.advance(HEALTH_VAULT_READ_INTERVAL_MS);
    await healthDetailsHandler(get('/api/health/details'), capture().context());
    expect(vaultReads() - before).toBe(4); // only "third" (no token, nothing in memory) is read again after a minute
    world.clock.advance(-HEALTH_VAULT_READ_INTERVAL_MS);
  });

  test('with caller authorization on: 401 without a token, 403 without Health.Read, 200 with it', async () => {
    use({ ...env, ...world.sims.entra.settings() });
    const { context, lines } = capture();
    const none = await healthDetailsHandler(get('/api/health/details'), context());
    expect(none.status).toBe(401);
    const tokenReader = await world.sims.entra.issueToken({ roles: ['Tokens.Read.All'] });
    const forbidden = await healthDetailsHandler(get('/api/health/details', { authorization: `Bearer ${tokenReader}` }), context());
    expect(forbidden.status).toBe(403);
    const problem = JSON.parse(String(forbidden.body)) as Record<string, unknown>;
    expect(problem).toMatchObject({ code: 'CALLER_FORBIDDEN', requiredRoles: ['Health.Read'] });
    expect(String(forbidden.body)).not.toMatch(/extra|altinn-token/);
    const reader = await world.sims.entra.issueToken({ roles: ['Health.Read'] });
    const ok = await healthDetailsHandler(get('/api/health/details', { authorization: `Bearer ${reader}` }), context());
    expect(ok.status).toBe(200);
    expect(JSON.parse(String(ok.body))).toMatchObject({ callerAuthorization: 'on', profiles: [{ profile: 'default' }, { profile: 'extra' }] });
    const audits = lines.filter((l) => l.includes('{"audit":"health-details"'));
    expect(audits).toHaveLength(2);
    expect(lines.join('\n')).not.toContain(reader);
  });
});

describe('start-up warnings', () => {
  test('caller authorization off is said once; in Azure, one vault for key and tokens is warned about', async () => {
    const runtime = use(env, { WEBSITE_SITE_NAME: 'broker-app' });
    const { log, lines } = capture();
    runtime.announce(log);
    runtime.announce(log);
    expect(lines.filter((l) => /Caller authorization is off/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /TOKEN_VAULT_URL is not set/.test(l))).toHaveLength(1);

    const quiet = capture();
    use({ ...env, ...world.sims.entra.settings() }, { WEBSITE_SITE_NAME: 'broker-app' }).announce(quiet.log);
    expect(quiet.lines.join('\n')).not.toMatch(/Caller authorization is off/);
    const local = capture();
    use({ ...env, ...world.sims.entra.settings() }).announce(local.log);
    expect(local.lines.filter((l) => l.startsWith('warn'))).toEqual([]);
    expect(local.lines.join('\n')).toMatch(/Caller authorization is on: Entra ID tenant [0-9a-f-]{36}/);
  });
});

describe('host.json', () => {
  test('Application Insights sampling never drops log lines (Trace), so no audit line is sampled away', async () => {
    const { readFileSync } = await import('node:fs');
    const host = JSON.parse(readFileSync(new URL('../../host.json', import.meta.url), 'utf8')) as {
      logging: { logLevel: { default: string }; applicationInsights: { samplingSettings: { isEnabled: boolean; excludedTypes?: string } } };
    };
    const sampling = host.logging.applicationInsights.samplingSettings;
    expect(sampling.isEnabled === false || (sampling.excludedTypes ?? '').split(';').map((t) => t.trim()).includes('Trace')).toBe(true);
    // audit lines are written at Information: the log level must let them through
    expect(['Trace', 'Debug', 'Information']).toContain(host.logging.logLevel.default);
  });
});

describe('app start hook (Azure)', () => {
  test('announces and checks every key at start: a bad key makes /api/health failing before any refresh', async () => {
    const { startupHandler } = await import('../../functions/startup.js');
    use({ ...env, PROFILE__extra__MASKINPORTEN_KEY_SECRET: 'missing-key' }, { WEBSITE_SITE_NAME: 'broker-app' });
    const printed: string[] = [];
    const saved = { log: console.log, warn: console.warn, error: console.error };
    Object.assign(console, {
      log: (m: string) => void printed.push(`info ${m}`),
      warn: (m: string) => void printed.push(`warn ${m}`),
      error: (m: string) => void printed.push(`error ${m}`),
    });
    try {
      await startupHandler();
    } finally {
      Object.assign(console, saved);
    }
    expect(printed.join('\n')).toMatch(/warn Caller authorization is off/);
    expect(printed.join('\n')).toMatch(/error \[extra\] Key check failed \(KEY_NOT_FOUND\)/);
    const res = await healthHandler(get('/api/health'), capture().context());
    expect(res.status).toBe(503);
    expect(JSON.parse(String(res.body))).toEqual({ status: 'failing' });
  });
});
