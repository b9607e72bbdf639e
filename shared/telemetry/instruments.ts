// The broker's own metrics and spans, through the OpenTelemetry API only: without an SDK (the local host, the tests
// that do not install one) every call here is a no-op that costs a property read. In Azure, azure-monitor.ts
// installs the Azure Monitor SDK after the first answer (README, "Telemetry"); instruments are created against
// whatever meter provider is global at the time, and records made while that set-up is under way are replayed.
// Attributes carry names, codes, hosts and statuses only: never a token, grant, key or URL query.
// Area telemetry/: metrics and spans (here), when to start exporting (start.ts) and the Azure exporter
// (azure-monitor.ts, imported by start.ts only). Imports no other area but logging: callers hand it plain values.
import { SpanKind, SpanStatusCode, metrics, trace, type Attributes, type Meter, type MeterProvider, type Span } from '@opentelemetry/api';

export const INSTRUMENTATION_NAME = 'maskinporten-broker';

/** The metric names: a contract with the alert rules (infra/) that query them in Application Insights. */
export const METRICS = Object.freeze({
  refresh: 'broker.refresh',
  timeToExpiry: 'broker.token.time_to_expiry',
  upstreamDuration: 'http.client.request.duration',
  served: 'broker.token.served',
  grantSigned: 'broker.grant.signed',
  keyExpiresIn: 'broker.key.expires_in',
  keyAge: 'broker.key.age',
});

export type RefreshTrigger = 'timer' | 'request' | 'operator';
export type Upstream = 'maskinporten' | 'altinn' | 'keyvault';
export type ServedOutcome = 'served' | 'unauthenticated' | 'forbidden' | 'unavailable';

/** What the gauges observe: each profile's served token expiry and the key in use (Runtime.status()). */
export interface ObservedProfile {
  readonly profile: string;
  readonly tokenExpiresAt?: string;
  /** The key in use, as plain values (keys/key-health.ts computes them; telemetry imports no other area). */
  readonly key?: { readonly source: string; readonly ageDays?: number; readonly expiresInDays?: number };
}

interface Instruments {
  readonly provider: MeterProvider;
  readonly refresh: ReturnType<Meter['createCounter']>;
  readonly duration: ReturnType<Meter['createHistogram']>;
  readonly served: ReturnType<Meter['createCounter']>;
  readonly grants: ReturnType<Meter['createCounter']>;
}

let instruments: Instruments | undefined;
let statusSource: (() => readonly ObservedProfile[]) | undefined;
let knownProfiles: ReadonlySet<string> | undefined;
let clock: () => number = Date.now;

/** Boundaries for upstream call durations in seconds (the semantic conventions' advice for HTTP durations). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** The instruments of the current global meter provider, created once per provider. */
function current(): Instruments {
  const provider = metrics.getMeterProvider();
  if (instruments?.provider === provider) return instruments;
  const meter = provider.getMeter(INSTRUMENTATION_NAME);
  const perProfile = (cb: (p: ObservedProfile, now: number) => Array<[number, Attributes]>) => (result: { observe(v: number, a?: Attributes): void }) => {
    const now = clock();
    for (const p of statusSource?.() ?? []) for (const [v, a] of cb(p, now)) result.observe(v, a);
  };
  meter
    .createObservableGauge(METRICS.timeToExpiry, { unit: 's', description: 'Seconds until the token a profile serves expires' })
    .addCallback(
      perProfile((p, now) => (p.tokenExpiresAt ? [[Math.max(0, Math.round((Date.parse(p.tokenExpiresAt) - now) / 1000)), { 'broker.profile': p.profile }]] : [])),
    );
  const keyAttrs = (p: ObservedProfile): Attributes => ({ 'broker.profile': p.profile, 'broker.key.source': p.key!.source });
  meter
    .createObservableGauge(METRICS.keyExpiresIn, { unit: 'd', description: 'Days until the key or certificate a profile signs with expires, where known' })
    .addCallback(perProfile((p) => (p.key?.expiresInDays !== undefined ? [[p.key.expiresInDays, keyAttrs(p)]] : [])));
  meter
    .createObservableGauge(METRICS.keyAge, { unit: 'd', description: 'Days since the key version a profile signs with was created, where known' })
    .addCallback(perProfile((p) => (p.key?.ageDays !== undefined ? [[p.key.ageDays, keyAttrs(p)]] : [])));
  instruments = {
    provider,
    refresh: meter.createCounter(METRICS.refresh, { unit: '{refresh}', description: 'Refresh attempts per profile, by outcome' }),
    duration: meter.createHistogram(METRICS.upstreamDuration, {
      unit: 's',
      description: 'Duration of calls to Maskinporten, Altinn and Key Vault',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    served: meter.createCounter(METRICS.served, { unit: '{token}', description: 'Token requests answered, by outcome' }),
    grants: meter.createCounter(METRICS.grantSigned, { unit: '{grant}', description: 'JWT grants signed, by key source' }),
  };
  return instruments;
}

// --- records made before the SDK is installed (start.ts arms this; nothing is kept otherwise) ---

const MAX_PENDING = 1000;
let pending: Array<() => void> | undefined;

/** From now on, records are kept until flushPending() (the SDK is being set up). */
export function holdRecords(): void {
  pending ??= [];
}

/** Replays the kept records against the now-installed provider and stops keeping. */
export function flushPending(): void {
  const kept = pending ?? [];
  pending = undefined;
  for (const record of kept) record();
}

function emit(record: () => void): void {
  if (pending) {
    if (pending.length < MAX_PENDING) pending.push(record);
    return;
  }
  record();
}

/** The source of the gauges (the process-wide Runtime registers itself; the latest wins). */
export function observeProfiles(source: () => readonly ObservedProfile[], now: () => number = Date.now, profiles?: readonly string[]): void {
  statusSource = source;
  knownProfiles = profiles && new Set(profiles);
  clock = now;
}

// --- refreshes ---

function tracer() {
  return trace.getTracer(INSTRUMENTATION_NAME);
}

/** Runs one refresh of a profile inside its span, `broker.refresh <profile>`; upstream calls become its children. */
export function inRefreshSpan<T>(profile: string, trigger: RefreshTrigger, fn: () => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(
    `broker.refresh ${profile}`,
    { kind: SpanKind.INTERNAL, attributes: { 'broker.profile': profile, 'broker.trigger': trigger } },
    async (span) => {
      try {
        return await fn();
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorCode(err) });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** One refresh attempt's outcome: the counter, and the attributes of the active refresh span. */
export function refreshed(profile: string, trigger: RefreshTrigger, outcome: 'fresh' | 'adopted' | 'refreshed' | 'failed', err?: unknown): void {
  const attributes: Attributes = {
    'broker.profile': profile,
    'broker.refresh.outcome': outcome,
    'broker.trigger': trigger,
    ...(outcome === 'failed' && { 'error.type': errorCode(err) }),
  };
  trace.getActiveSpan()?.setAttributes(attributes);
  emit(() => current().refresh.add(1, attributes));
}

/** Maskinporten's trace id (from its error answer), on the active refresh span: quote it to Digdir's support. */
export function noteMaskinportenTraceId(traceId: string): void {
  if (/^[A-Za-z0-9-]{6,64}$/.test(traceId)) trace.getActiveSpan()?.setAttribute('broker.maskinporten.trace_id', traceId);
}

/** A BrokerError's code, else the error's class name, else 'unexpected': a short, fixed vocabulary. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(code)) return code;
  const name = (err as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' && /^[A-Za-z]{1,64}$/.test(name) ? name : 'unexpected';
}

// --- upstream calls ---

export interface UpstreamCall {
  readonly upstream: Upstream;
  readonly method: string;
  /** Only the host (and port) is recorded, never the path or query. */
  readonly url: string;
  /** Span name suffix, e.g. "token", "exchange", "getSecret". */
  readonly operation: string;
}

export interface UpstreamResult {
  /** The HTTP status answered, when there was an answer. */
  status?: number;
  /** Why the call failed, when it did (an error code or the status). */
  errorType?: string;
}

/**
 * Runs one call to an upstream service in a client span (a child of the active refresh span) and records its
 * duration in `http.client.request.duration`. `fn` fills in the status it saw; a throw without one is recorded
 * with the error's code.
 */
export async function upstreamCall<T>(call: UpstreamCall, fn: (result: UpstreamResult) => Promise<T>): Promise<T> {
  const { host, port } = hostOf(call.url);
  const base: Attributes = {
    'http.request.method': call.method,
    'server.address': host,
    ...(port !== undefined && { 'server.port': port }),
    'broker.upstream': call.upstream,
  };
  const result: UpstreamResult = {};
  const name = `${call.upstream === 'keyvault' ? 'Key Vault' : call.upstream === 'altinn' ? 'Altinn' : 'Maskinporten'} ${call.operation}`;
  return tracer().startActiveSpan(name, { kind: SpanKind.CLIENT, attributes: base }, async (span: Span) => {
    const t0 = performance.now();
    try {
      return await fn(result);
    } catch (err) {
      result.errorType ??= result.status !== undefined && result.status >= 400 ? String(result.status) : errorCode(err);
      throw err;
    } finally {
      if (result.errorType === undefined && result.status !== undefined && result.status >= 400) result.errorType = String(result.status);
      const attributes: Attributes = {
        ...base,
        ...(result.status !== undefined && { 'http.response.status_code': result.status }),
        ...(result.errorType !== undefined && { 'error.type': result.errorType }),
      };
      span.setAttributes(attributes);
      if (result.errorType !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: result.errorType });
      span.end();
      const seconds = (performance.now() - t0) / 1000;
      emit(() => current().duration.record(seconds, attributes));
    }
  });
}

function hostOf(url: string): { host: string; port?: number } {
  try {
    const u = new URL(url);
    return { host: u.hostname, ...(u.port !== '' && { port: Number(u.port) }) };
  } catch {
    return { host: 'unknown' };
  }
}

// --- tokens handed out, grants signed ---

const APP_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export interface ServedFacts {
  readonly profile?: string;
  readonly outcome: ServedOutcome;
  /** The caller's application id, counted only when its token verified and it is a GUID (bounded cardinality). */
  readonly callerAppId?: string;
  readonly errorType?: string;
}

export function tokenServed(f: ServedFacts): void {
  // A name asked for that is not configured is counted as "(unknown)": callers cannot mint new attribute values.
  const known = f.profile === undefined || knownProfiles === undefined || knownProfiles.has(f.profile);
  const attributes: Attributes = {
    ...(f.profile !== undefined && { 'broker.profile': known ? f.profile : '(unknown)' }),
    'broker.outcome': f.outcome,
    ...(f.callerAppId !== undefined && APP_ID.test(f.callerAppId) && { 'broker.caller.app_id': f.callerAppId.toLowerCase() }),
    ...(f.errorType !== undefined && { 'error.type': f.errorType }),
  };
  emit(() => current().served.add(1, attributes));
}

export function grantSigned(source: 'secret' | 'vault-key' | 'certificate'): void {
  emit(() => current().grants.add(1, { 'broker.key.source': source }));
}

/** One Key Vault SDK call as an upstream call: status 200 when it resolves, else the SDK error's statusCode. */
export function keyVaultCall<T>(vaultUrl: string, method: string, operation: string, fn: () => Promise<T>): Promise<T> {
  return upstreamCall({ upstream: 'keyvault', method, url: vaultUrl, operation }, async (result) => {
    try {
      const value = await fn();
      result.status = 200;
      return value;
    } catch (err) {
      const status = (err as { statusCode?: unknown } | null | undefined)?.statusCode;
      if (typeof status === 'number') result.status = status;
      throw err;
    }
  });
}
