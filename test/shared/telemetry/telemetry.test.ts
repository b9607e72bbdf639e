// The broker's metrics and spans (shared/telemetry/instruments.ts), read back through an in-memory OpenTelemetry SDK: a
// successful refresh, a failed one, a token served and refused callers (caller authorization on, Entra ID simulator),
// against the simulators with the real Key Vault SDK and the real token handler. Every attribute is checked to hold
// no token, grant, caller token or key material, including values captured on the wire during the test.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { HttpRequest } from '@azure/functions';
import { context, metrics, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type DataPoint } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SignJWT, generateKeyPair } from 'jose';
import { tokenHandler } from '../../../functions/token.js';
import { parseConfig } from '../../../shared/config/config.js';
import { Runtime, setRuntime } from '../../../shared/runtime.js';
import { METRICS, flushPending, holdRecords, tokenServed } from '../../../shared/telemetry/instruments.js';
import { armTelemetry } from '../../../shared/telemetry/start.js';
import type { FetchLike } from '../../../shared/upstream/http-client.js';
import { capture } from '../../helpers/capture.js';
import { startWorld, type World } from '../../helpers/world.js';

const metricExporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const spanExporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
const contextManager = new AsyncLocalStorageContextManager();

let world: World;
/** Everything secret seen on the wire during the tests: grants sent, tokens received, and the key. */
const secrets = new Set<string>();

/** The runtime's fetch, recording every grant sent and every body received (tokens) as secret material. */
const recordingFetch: FetchLike = async (url, init) => {
  if (typeof init.body === 'string') {
    const assertion = new URLSearchParams(init.body).get('assertion');
    if (assertion) secrets.add(assertion);
  }
  const res = await fetch(url, init);
  const text = await res.clone().text();
  for (const m of text.matchAll(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g)) secrets.add(m[0]);
  return res;
};

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  metrics.setGlobalMeterProvider(meterProvider);
  trace.setGlobalTracerProvider(tracerProvider);
  world = await startWorld();
  for (const v of Object.values(world.key.jwk)) if (typeof v === 'string' && v.length > 20) secrets.add(v);
  secrets.add(world.sims.keyVault.getSecret(world.keySecret)?.value ?? '');
});

afterAll(async () => {
  setRuntime(undefined);
  await world.close();
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
  metrics.disable();
  trace.disable();
  context.disable();
});

beforeEach(async () => {
  await collect(); // starts each test from zero (delta temporality)
  spanExporter.reset();
});

interface Point {
  readonly name: string;
  readonly unit: string;
  readonly attributes: Attributes;
  readonly value: unknown;
}

/** The metric points recorded since the last call. */
async function collect(): Promise<Point[]> {
  await reader.forceFlush();
  const points: Point[] = [];
  for (const rm of metricExporter.getMetrics()) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        for (const dp of m.dataPoints as Array<DataPoint<unknown>>) points.push({ name: m.descriptor.name, unit: m.descriptor.unit, attributes: dp.attributes, value: dp.value });
      }
    }
  }
  metricExporter.reset();
  return points;
}

const named = (points: Point[], name: string) => points.filter((p) => p.name === name);
const spans = (): ReadableSpan[] => spanExporter.getFinishedSpans();
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

function runtime(settings: Record<string, string>): Runtime {
  const r = new Runtime(parseConfig(settings), { now: world.clock.now, fetch: recordingFetch, retry: { baseDelayMs: 5, maxDelayMs: 10 } });
  setRuntime(r);
  return r;
}

/** No secret seen during the test in any metric attribute or span (name, attributes, status, events). */
function expectNoSecrets(points: Point[], recorded: ReadableSpan[]): void {
  const text = JSON.stringify([
    points.map((p) => [p.name, p.attributes]),
    recorded.map((s) => [s.name, s.attributes, s.status, s.events]),
  ]);
  expect(secrets.size).toBeGreaterThan(3);
  for (const secret of secrets) if (secret.length >= 16) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{4,}\./); // nothing JWT-shaped at all
  expect(text).not.toMatch(/Bearer/i);
}

describe('a refresh', () => {
  test('a successful timer refresh: one counter point, a refresh span with Key Vault, Maskinporten and Altinn children, gauges', async () => {
    const r = runtime(world.env);
    const { log } = capture();
    const [report] = await r.refreshAll(log);
    expect(report!.outcome).toBe('refreshed');
    const points = await collect();

    expect(named(points, METRICS.refresh)).toEqual([
      { name: 'broker.refresh', unit: '{refresh}', attributes: { 'broker.profile': 'default', 'broker.refresh.outcome': 'refreshed', 'broker.trigger': 'timer' }, value: 1 },
    ]);
    expect(named(points, METRICS.grantSigned)).toEqual([{ name: 'broker.grant.signed', unit: '{grant}', attributes: { 'broker.key.source': 'secret' }, value: 1 }]);

    const durations = named(points, METRICS.upstreamDuration);
    expect(durations.every((p) => p.unit === 's')).toBe(true);
    const byUpstream = (u: string) => durations.filter((p) => p.attributes['broker.upstream'] === u).map((p) => p.attributes);
    // the token request, and the issuer's metadata and keys (fetched once per process) to verify the token
    expect(byUpstream('maskinporten')).toEqual(
      expect.arrayContaining([
        { 'http.request.method': 'POST', 'server.address': '127.0.0.1', 'server.port': expect.any(Number), 'broker.upstream': 'maskinporten', 'http.response.status_code': 200 },
        expect.objectContaining({ 'http.request.method': 'GET', 'http.response.status_code': 200 }),
      ]),
    );
    expect(byUpstream('maskinporten').filter((a) => a['http.request.method'] === 'POST')).toHaveLength(1);
    expect(byUpstream('altinn').length).toBeGreaterThanOrEqual(1);
    expect(byUpstream('altinn').every((a) => a['http.request.method'] === 'GET' && a['http.response.status_code'] === 200)).toBe(true);
    // the token secret (not there yet: 404), the key secret (200), the new token (PUT 200)
    expect(byUpstream('keyvault')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ 'http.request.method': 'GET', 'http.response.status_code': 404, 'error.type': '404' }),
        expect.objectContaining({ 'http.request.method': 'GET', 'http.response.status_code': 200 }),
        expect.objectContaining({ 'http.request.method': 'PUT', 'http.response.status_code': 200 }),
      ]),
    );

    const [ttl] = named(points, METRICS.timeToExpiry);
    expect(ttl).toMatchObject({ unit: 's', attributes: { 'broker.profile': 'default' } });
    const expected = (Date.parse(r.status()[0]!.tokenExpiresAt!) - world.clock.now()) / 1000;
    expect(Math.abs((ttl!.value as number) - expected)).toBeLessThan(5);

    const recorded = spans();
    const refresh = recorded.filter((s) => s.name === 'broker.refresh default');
    expect(refresh).toHaveLength(1);
    expect(refresh[0]!.attributes).toEqual({ 'broker.profile': 'default', 'broker.trigger': 'timer', 'broker.refresh.outcome': 'refreshed' });
    const children = recorded.filter((s) => parentOf(s) === refresh[0]!.spanContext().spanId);
    const names = children.map((s) => s.name);
    for (const n of ['Altinn exchange', 'Key Vault getSecret', 'Key Vault setSecret', 'Maskinporten token', 'Maskinporten metadata', 'Maskinporten keys', 'Altinn metadata', 'Altinn keys']) {
      expect(names).toContain(n);
    }
    expect(names.filter((n) => n === 'Key Vault getSecret')).toHaveLength(2); // the token secret and the key secret
    for (const c of children) expect(c.spanContext().traceId).toBe(refresh[0]!.spanContext().traceId);
    expectNoSecrets(points, recorded);
  });

  test('a failed refresh: outcome failed with the error code, a failed Maskinporten span, Maskinporten\'s trace id on the refresh span', async () => {
    const r = runtime({ ...world.env, TOKEN_SECRET: 'failing-token' });
    world.sims.maskinporten.faults.enqueue({
      status: 400,
      body: JSON.stringify({ error: 'invalid_scope', error_description: 'Scope not allowed (trace id: 0af7651916cd43dd)' }),
      headers: { 'content-type': 'application/json' },
    });
    const { log } = capture();
    const [report] = await r.refreshAll(log);
    expect(report!.outcome).toBe('failed');
    const points = await collect();
    expect(named(points, METRICS.refresh)).toEqual([
      expect.objectContaining({
        attributes: { 'broker.profile': 'default', 'broker.refresh.outcome': 'failed', 'broker.trigger': 'timer', 'error.type': 'MASKINPORTEN_REJECTED' },
        value: 1,
      }),
    ]);
    expect(named(points, METRICS.upstreamDuration).filter((p) => p.attributes['broker.upstream'] === 'maskinporten').map((p) => p.attributes)).toEqual([
      expect.objectContaining({ 'http.response.status_code': 400, 'error.type': '400' }),
    ]);
    expect(named(points, METRICS.timeToExpiry)).toEqual([]); // nothing to serve: no gauge point for the profile

    const recorded = spans();
    const refresh = recorded.find((s) => s.name === 'broker.refresh default')!;
    expect(refresh.status).toEqual({ code: 2, message: 'MASKINPORTEN_REJECTED' }); // SpanStatusCode.ERROR
    expect(refresh.attributes).toMatchObject({ 'broker.refresh.outcome': 'failed', 'error.type': 'MASKINPORTEN_REJECTED', 'broker.maskinporten.trace_id': '0af7651916cd43dd' });
    const mp = recorded.find((s) => s.name === 'Maskinporten token')!;
    expect(parentOf(mp)).toBe(refresh.spanContext().spanId);
    expect(mp.status.code).toBe(2);
    expect(mp.attributes).toMatchObject({ 'http.response.status_code': 400, 'error.type': '400', 'broker.upstream': 'maskinporten' });
    expectNoSecrets(points, recorded);
  });

  test('a timer run with a fresh token counts "fresh" and makes no span (no upstream call)', async () => {
    const r = runtime(world.env);
    const { log } = capture();
    await r.refreshAll(log); // adopts the stored token
    await r.refreshAll(log);
    const points = await collect();
    expect(named(points, METRICS.refresh).map((p) => [p.attributes['broker.refresh.outcome'], p.value])).toEqual([
      ['adopted', 1],
      ['fresh', 1],
    ]);
    expect(spans().map((s) => s.name)).toEqual(['Key Vault getSecret', 'broker.refresh default']);
  });
});

describe('a Key Vault key', () => {
  test('grants signed by a vault key: the source, the sign calls as child spans, and the key\'s expiry and age gauges', async () => {
    const KEY = 'mp-signing-key';
    const kid = 'broker-TEST.telemetry';
    const expSeconds = Math.floor(world.clock.now() / 1000) + 20 * 86_400 + 3_600;
    world.sims.keyVault.keys.createKey(KEY, { tags: { 'maskinporten-kid': kid }, exp: expSeconds });
    world.sims.maskinporten.addClient({ clientId: world.clientId, scopes: ['altinn:serviceowner'], keys: [{ ...world.sims.keyVault.keys.versions(KEY)[0]!.publicJwk, kid }] as never });
    const { MASKINPORTEN_KEY_SECRET: _secret, MASKINPORTEN_KID: _kid, ...rest } = world.env;
    const r = runtime({ ...rest, MASKINPORTEN_VAULT_KEY: KEY, TOKEN_SECRET: 'vault-key-token' });
    const { log } = capture();
    const [report] = await r.refreshAll(log);
    expect(report!.outcome).toBe('refreshed');
    const points = await collect();
    expect(named(points, METRICS.grantSigned)).toEqual([expect.objectContaining({ attributes: { 'broker.key.source': 'vault-key' }, value: 1 })]);
    expect(named(points, METRICS.keyExpiresIn)).toEqual([
      { name: 'broker.key.expires_in', unit: 'd', attributes: { 'broker.profile': 'default', 'broker.key.source': 'vault-key' }, value: 20 },
    ]);
    expect(named(points, METRICS.keyAge)).toEqual([
      { name: 'broker.key.age', unit: 'd', attributes: { 'broker.profile': 'default', 'broker.key.source': 'vault-key' }, value: 0 },
    ]);
    const recorded = spans();
    const refresh = recorded.find((s) => s.name === 'broker.refresh default')!;
    const sign = recorded.filter((s) => s.name === 'Key Vault sign');
    expect(sign).toHaveLength(1);
    expect(parentOf(sign[0]!)).toBe(refresh.spanContext().spanId);
    expect(sign[0]!.attributes).toMatchObject({ 'http.request.method': 'POST', 'broker.upstream': 'keyvault', 'http.response.status_code': 200 });
    expect(recorded.map((s) => s.name)).toEqual(expect.arrayContaining(['Key Vault listKeyVersions', 'Key Vault getKey']));
    expectNoSecrets(points, recorded);
  });
});

describe('tokens handed out (caller authorization on)', () => {
  let settings: Record<string, string>;
  beforeAll(() => {
    settings = { ...world.env, ...world.sims.entra.settings() };
  });

  async function get(headers: Record<string, string>): Promise<number> {
    const { context: ctx } = capture();
    const request = new HttpRequest({ method: 'GET', url: 'http://127.0.0.1:7071/api/token', headers, params: {} });
    const res = await tokenHandler(request, ctx('token'));
    if (res.status === 200) secrets.add((JSON.parse(String(res.body)) as { access_token: string }).access_token);
    return res.status ?? 200;
  }

  test('a served token counts once, with the profile and the verified caller application', async () => {
    runtime(settings);
    const appId = crypto.randomUUID();
    const callerToken = await world.sims.entra.issueToken({ roles: ['Tokens.Read.All'], appId });
    secrets.add(callerToken);
    expect(await get({ authorization: `Bearer ${callerToken}` })).toBe(200);
    const points = await collect();
    expect(named(points, METRICS.served)).toEqual([
      { name: 'broker.token.served', unit: '{token}', attributes: { 'broker.profile': 'default', 'broker.outcome': 'served', 'broker.caller.app_id': appId }, value: 1 },
    ]);
    // this fresh runtime's first request adopted the stored token: a refresh triggered by a request
    expect(named(points, METRICS.refresh).map((p) => p.attributes)).toEqual([{ 'broker.profile': 'default', 'broker.refresh.outcome': 'adopted', 'broker.trigger': 'request' }]);
    expect(spans().filter((s) => s.name === 'broker.refresh default').map((s) => s.attributes['broker.trigger'])).toEqual(['request']);
    expectNoSecrets(points, spans());
  });

  test('refused callers: no token and a forged token are unauthenticated (no app id), a missing role is forbidden', async () => {
    runtime(settings);
    const appId = crypto.randomUUID();
    const claimed = crypto.randomUUID();
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ roles: ['Tokens.Read.All'], azp: claimed, tid: 'x' })
      .setProtectedHeader({ alg: 'RS256', kid: 'forged' })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    const noRole = await world.sims.entra.issueToken({ roles: ['Tokens.Read.other'], appId });
    secrets.add(forged);
    secrets.add(noRole);

    expect(await get({})).toBe(401);
    expect(await get({ authorization: `Bearer ${forged}` })).toBe(401);
    expect(await get({ authorization: `Bearer ${noRole}` })).toBe(403);
    const points = await collect();
    const served = named(points, METRICS.served).map((p) => [p.attributes, p.value]);
    expect(served).toEqual(
      expect.arrayContaining([
        [{ 'broker.profile': 'default', 'broker.outcome': 'unauthenticated', 'error.type': 'no token' }, 1],
        [{ 'broker.profile': 'default', 'broker.outcome': 'unauthenticated', 'error.type': 'unknown kid' }, 1],
        [{ 'broker.profile': 'default', 'broker.outcome': 'forbidden', 'broker.caller.app_id': appId, 'error.type': expect.any(String) }, 1],
      ]),
    );
    expect(served).toHaveLength(3);
    expect(JSON.stringify(points)).not.toContain(claimed); // an unproven app id is never an attribute
    expectNoSecrets(points, spans());
  });

  test('a profile name that is not configured is counted as "(unknown)", so callers cannot add attribute values', async () => {
    runtime(settings);
    const callerToken = await world.sims.entra.issueToken({ roles: ['Tokens.Read.All'] });
    const { context: ctx } = capture();
    const request = new HttpRequest({ method: 'GET', url: 'http://127.0.0.1:7071/api/token/nosuch-1', headers: { authorization: `Bearer ${callerToken}` }, params: { profile: 'nosuch-1' } });
    expect((await tokenHandler(request, ctx('token'))).status).toBe(404);
    const points = await collect();
    expect(named(points, METRICS.served).map((p) => p.attributes)).toEqual([
      expect.objectContaining({ 'broker.profile': '(unknown)', 'broker.outcome': 'unavailable', 'error.type': 'PROFILE_NOT_FOUND' }),
    ]);
  });
});

describe('arming', () => {
  test('records made while the SDK is being set up are kept and exported once it is in place', async () => {
    holdRecords();
    tokenServed({ profile: 'default', outcome: 'served' });
    expect(named(await collect(), METRICS.served)).toEqual([]);
    flushPending();
    expect(named(await collect(), METRICS.served)).toEqual([expect.objectContaining({ attributes: { 'broker.profile': 'default', 'broker.outcome': 'served' }, value: 1 })]);
    tokenServed({ profile: 'default', outcome: 'served' }); // no longer kept
    expect(named(await collect(), METRICS.served)).toHaveLength(1);
  });


  test('without APPLICATIONINSIGHTS_CONNECTION_STRING nothing is armed and the Azure Monitor SDK is not loaded', () => {
    const { log, lines } = capture();
    expect(armTelemetry({}, log)).toBe(false);
    expect(armTelemetry({ APPLICATIONINSIGHTS_CONNECTION_STRING: '  ' }, log)).toBe(false);
    expect(lines).toEqual([]);
  });
});
