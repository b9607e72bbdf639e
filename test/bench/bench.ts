// `npm run bench`: measures the broker on this machine against the targets of issue 4 and prints a markdown table,
// also written to test/bench/results.md. It reports and never gates: it exits 0 when a target is missed (1 only when
// the bench itself could not run). Loopback only; bounded in time (about a minute and a half) and request count.
import { writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../shared/config/config.js';
import { Runtime } from '../../shared/runtime.js';
import { startWorld, type World } from '../helpers/world.js';
import { buildApp, medianImportMs, type BuiltApp, type ImportSet } from './cold-import.js';
import { burst, load, median, type LoadResult } from './load.js';
import { startServerProcess, type ServerProcess } from './protocol.js';
import { benchSigning } from './signing.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results.md', import.meta.url));
/** Compiled along with the app and run with plain node: the host and bare servers. */
const SERVER_SOURCE = 'test/bench/server.ts';

const CONNECTIONS = 16;
const WARMUP_SECONDS = 2;
const MEASURE_SECONDS = 6;
const ROUNDS = 3;
const BURST = 1_000;
const RSS_REQUESTS = 10_000;
const SIGN_ITERATIONS = 1_000;
const IMPORT_RUNS = 9;
const BREAKDOWN_RUNS = 5;
const COLD_RUNS = 7;
/** Figure 6 compares two nearly equal figures on a busy machine: more runs than figure 2. */
const TELEMETRY_IMPORT_RUNS = 15;
/** BENCH_ONLY=cold: only the cold figures 6 and 7 (a quick run on a busy machine). */
const COLD_ONLY = process.env.BENCH_ONLY === 'cold';
const WATCHDOG_MS = 5 * 60_000;
/** Telemetry "on" in the bench: a connection string as in Azure, its ingestion endpoint a closed loopback port (the
 *  set-up never exports within a measured run) and no SDK self-reporting. */
const TELEMETRY_ON = Object.freeze({
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=00000000-0000-4000-8000-000000000000;IngestionEndpoint=https://127.0.0.1:9/',
  APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
  APPLICATIONINSIGHTS_SDKSTATS_DISABLED: 'true',
});

type Verdict = 'PASS' | 'MISS' | 'info' | 'ERROR';

interface Row {
  readonly figure: string;
  readonly measured: string;
  readonly target: string;
  readonly verdict: Verdict;
}

const rows: Row[] = [];
/** Supporting figures, each under the number of the figure it explains (0: about the run itself). */
const details: Array<{ readonly n: number; readonly text: string }> = [];
const detail = (n: number, text: string): void => void details.push({ n, text });

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mib = (bytes: number): string => `${fmt(bytes / 1024 / 1024, 1)} MiB`;
const verdict = (ok: boolean): Verdict => (ok ? 'PASS' : 'MISS');
const progress = (message: string): void => void process.stderr.write(`bench: ${message}\n`);

/** Runs one section; a section that throws becomes an ERROR row instead of stopping the others. */
async function section(figure: string, target: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    rows.push({ figure, measured: `could not measure: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, target, verdict: 'ERROR' });
  }
}

async function signingSection(): Promise<void> {
  progress(`grant signing, ${SIGN_ITERATIONS} iterations per variant`);
  const s = await benchSigning(SIGN_ITERATIONS);
  const ratio = s.signGrantUs / s.rawSyncUs;
  rows.push({
    figure: '4. Grant signing: `signGrant` (decoded key) ÷ raw `crypto.sign(sha256)`, same RSA 2048 key, per-op median',
    measured: `${fmt(ratio, 2)} (${fmt(s.signGrantUs)} ÷ ${fmt(s.rawSyncUs)} µs)`,
    target: '≤ 1.2',
    verdict: verdict(ratio <= 1.2),
  });
  detail(
    4,
    `Signing, per-op medians over ${s.iterations} interleaved iterations: signGrant ${fmt(s.signGrantUs)} µs; ` +
      `WebCrypto \`subtle.sign\` alone with the same CryptoKey ${fmt(s.subtleUs)} µs; ` +
      `\`crypto.sign\` with a callback (thread pool) ${fmt(s.rawAsyncUs)} µs; synchronous \`crypto.sign\` ${fmt(s.rawSyncUs)} µs.`,
  );
}

/** Fresh processes (telemetry off and on, alternating), each answering its first `GET /api/token` with a valid token
 *  already in the vault; and the cold import of the function modules with telemetry off and on. */
async function coldTelemetrySection(app: BuiltApp, script: string): Promise<void> {
  const modules = ['./functions/token.js', './functions/health.js', './functions/health-details.js', './functions/refresh-timer.js', './functions/startup.js'];
  progress(`cold imports with telemetry off and on, ${IMPORT_RUNS} fresh processes each`);
  const [offImport, onImport] = (await medianImportMs(app.dir, [{ label: 'off', modules }, { label: 'on', modules, env: TELEMETRY_ON }], TELEMETRY_IMPORT_RUNS)) as [number, number];
  rows.push({
    figure: '6. Cold import of the 5 function modules, telemetry on ÷ off (`APPLICATIONINSIGHTS_CONNECTION_STRING` set or not), median of fresh processes',
    measured: `${fmt(onImport / offImport, 2)} (${fmt(onImport, 1)} ÷ ${fmt(offImport, 1)} ms)`,
    target: '0.9 – 1.1',
    verdict: verdict(Math.abs(onImport / offImport - 1) <= 0.1),
  });

  const world = await startWorld();
  try {
    const seed = await new Runtime(parseConfig(world.env)).refreshAll({ info: () => undefined, warn: () => undefined, error: () => undefined });
    if (seed[0]?.outcome !== 'refreshed') throw new Error(`could not put a token in the vault (${seed[0]?.outcome})`);
    const samples = { off: [] as number[], on: [] as number[], firstOff: [] as number[], firstOn: [] as number[] };
    let setup: { ms?: number; ok?: boolean } = {};
    progress(`cold first token, ${COLD_RUNS} fresh processes each with telemetry off and on`);
    for (let i = 0; i < COLD_RUNS; i++) {
      for (const on of [false, true]) {
        const t0 = performance.now();
        const server = await startServerProcess(script, 'cold', { ...world.env, ...(on ? TELEMETRY_ON : {}) });
        try {
          const t1 = performance.now();
          const res = await fetch(`${server.url}/api/token`);
          const body = (await res.json()) as { access_token?: string };
          if (res.status !== 200 || typeof body.access_token !== 'string') throw new Error(`the first GET /api/token answered ${res.status}`);
          const t2 = performance.now();
          samples[on ? 'on' : 'off'].push(t2 - t0);
          samples[on ? 'firstOn' : 'firstOff'].push(t2 - t1);
          if (on && i === COLD_RUNS - 1) {
            const s = await server.stats({ telemetry: true });
            setup = { ...(s.telemetrySetupMs !== undefined && { ms: s.telemetrySetupMs }), ...(s.telemetryOk !== undefined && { ok: s.telemetryOk }) };
          }
        } finally {
          await server.stop();
        }
      }
    }
    const off = median(samples.off);
    const on = median(samples.on);
    rows.push({
      figure: '7. Cold first token: a fresh process (functions loaded, start hook run) answering its first `GET /api/token`, token already in the vault; telemetry on ÷ off, median',
      measured: `${fmt(on / off, 2)} (${fmt(on)} ÷ ${fmt(off)} ms)`,
      target: '0.9 – 1.1',
      verdict: verdict(Math.abs(on / off - 1) <= 0.1),
    });
    detail(
      7,
      `Cold first token over ${COLD_RUNS} runs each, off and on alternating: from fork to the 200 answer, off ${samples.off.map((v) => fmt(v)).join(', ')} ms; on ${samples.on.map((v) => fmt(v)).join(', ')} ms. ` +
        `The first request alone (from the process's ready signal to the answer): off ${fmt(median(samples.firstOff))} ms, on ${fmt(median(samples.firstOn))} ms (medians). ` +
        `The telemetry set-up, started after the first answer as the Functions worker's postInvocation hook does: ${setup.ok ? `in place ${fmt(setup.ms ?? 0)} ms after the start hook armed it` : 'failed'} (measured once, in the last "on" process).`,
    );
  } finally {
    await world.close();
  }
}

async function coldImportSection(app: BuiltApp): Promise<void> {
  const functions: ImportSet = { label: 'functions', modules: ['./functions/token.js', './functions/health.js', './functions/health-details.js', './functions/refresh-timer.js', './functions/startup.js'] };
  const sdk: ImportSet = { label: '@azure/functions', modules: ['@azure/functions'] };
  progress(`cold imports, ${IMPORT_RUNS} fresh processes each`);
  const [fnMs, sdkMs] = (await medianImportMs(app.dir, [functions, sdk], IMPORT_RUNS)) as [number, number];
  const ratio = fnMs / sdkMs;
  rows.push({
    figure: '2. Cold import of the 5 compiled function modules ÷ `@azure/functions` alone, median of fresh processes',
    measured: `${fmt(ratio, 2)} (${fmt(fnMs, 1)} ÷ ${fmt(sdkMs, 1)} ms)`,
    target: '≤ 1.5',
    verdict: verdict(ratio <= 1.5),
  });
  const pieces: ImportSet[] = [
    { label: 'croner', modules: ['croner'] },
    { label: 'exponential-backoff', modules: ['exponential-backoff'] },
    { label: 'shared/core.js (what the handlers load on their first invocation, without @azure/functions)', modules: ['./shared/core.js'] },
    { label: '@azure/keyvault-secrets (lazy)', modules: ['@azure/keyvault-secrets'] },
    { label: '@azure/identity (lazy)', modules: ['@azure/identity'] },
  ];
  progress(`import breakdown, ${BREAKDOWN_RUNS} fresh processes each`);
  const pieceMs = await medianImportMs(app.dir, pieces, BREAKDOWN_RUNS);
  detail(
    2,
    `Import breakdown (median of ${BREAKDOWN_RUNS} fresh processes, each alone): ` +
      pieces.map((p, i) => `${p.label} ${fmt(pieceMs[i]!, 1)} ms`).join('; ') +
      '.',
  );
}

interface Upstream {
  readonly maskinporten: number;
  /** Exchange requests; the issuer metadata and key set fetched to verify Altinn tokens are counted apart. */
  readonly altinn: number;
  readonly altinnKeyFetches: number;
  readonly kvWrites: number;
  readonly kvReads: number;
}

function upstream(world: World): Upstream {
  const kv = world.sims.keyVault.requests;
  return {
    maskinporten: world.sims.maskinporten.requests.length,
    altinn: world.sims.altinn.requests.filter((r) => !r.path.includes('/openid/')).length,
    altinnKeyFetches: world.sims.altinn.requests.filter((r) => r.path.includes('/openid/')).length,
    kvWrites: world.sims.keyVault.writes,
    kvReads: kv.filter((r) => r.method === 'GET').length,
  };
}

/** A fresh host on a fresh world (empty cache, empty token secret) gets BURST requests at once. */
async function burstSection(script: string): Promise<void> {
  const world = await startWorld();
  const host = await startServerProcess(script, 'host', { ...world.env });
  try {
    progress(`${fmt(BURST)} concurrent GET /api/token on an empty cache`);
    const b = await burst(`${host.url}/api/token`, BURST);
    const u = upstream(world);
    const s = await host.stats();
    const ok = u.maskinporten === 1 && u.altinn === 1 && u.kvWrites === 1 && b.statuses[200] === BURST && b.distinctTokens === 1;
    rows.push({
      figure: `3. Upstream calls for ${fmt(BURST)} concurrent \`GET /api/token\` on an empty cache (Maskinporten / Altinn / Key Vault writes)`,
      measured: `${u.maskinporten} / ${u.altinn} / ${u.kvWrites}`,
      target: '1 / 1 / 1',
      verdict: verdict(ok),
    });
    detail(
      3,
      `Burst: ${fmt(BURST)} requests on ${fmt(BURST)} new connections in ${fmt(b.ms)} ms; statuses ${JSON.stringify(b.statuses)}, ` +
        `connection errors ${b.errors}, distinct tokens served ${b.distinctTokens}; Altinn issuer metadata and key set fetches (to verify the token, once per process) ${u.altinnKeyFetches}; Key Vault reads ${u.kvReads} ` +
        `(the token secret before minting, the key secret, and the SDK's unauthenticated challenge request). ` +
        `That host's RSS right after the burst: ${mib(s.rss)}.`,
    );
  } finally {
    await host.stop();
    await world.close();
  }
}

/** One request mints the token; then RSS_REQUESTS warm ones; then the host's memory, before and after a full GC. */
async function rssSection(world: World, host: ServerProcess): Promise<void> {
  progress(`1 cold + ${fmt(RSS_REQUESTS)} warm requests, then the host's RSS`);
  const first = await fetch(`${host.url}/api/token`);
  await first.arrayBuffer();
  if (first.status !== 200) throw new Error(`the first GET /api/token answered ${first.status}`);
  const before = upstream(world);
  const logsBefore = (await host.stats()).logLines;
  const r = await load(`${host.url}/api/token`, { connections: CONNECTIONS, amount: RSS_REQUESTS });
  const s = await host.stats();
  const retained = await host.stats({ gc: true });
  const after = upstream(world);
  const calls = after.maskinporten - before.maskinporten + after.altinn - before.altinn + after.altinnKeyFetches - before.altinnKeyFetches + after.kvReads - before.kvReads + after.kvWrites - before.kvWrites;
  rows.push({
    figure: `5. Host process RSS after 1 cold + ${fmt(RSS_REQUESTS)} warm \`GET /api/token\``,
    measured: mib(s.rss),
    target: '≤ 120 MB',
    verdict: verdict(s.rss <= 120 * 1024 * 1024 && r.non2xx === 0 && r.errors === 0),
  });
  detail(
    5,
    `${fmt(RSS_REQUESTS)} warm requests: ${fmt(r.requests)} answered (${r.non2xx} non-2xx, ${r.errors} errors), ` +
      `upstream calls during them ${calls}, log lines ${s.logLines - logsBefore}. Heap used ${mib(s.heapUsed)}; ` +
      `after a full GC: heap ${mib(retained.heapUsed)}, RSS ${mib(retained.rss)}.`,
  );
}

type Measured = LoadResult & { readonly cores: number; readonly cpuPerRequestUs: number };

type Side = 'host' | 'constant' | 'bare';
type Round = Record<Side, Measured>;

/** A fixed-duration run after a warm-up, with the server's CPU use over the measured part. */
async function measured(server: ServerProcess, path: string): Promise<Measured> {
  await load(`${server.url}${path}`, { connections: CONNECTIONS, duration: WARMUP_SECONDS });
  const s0 = await server.stats();
  const r = await load(`${server.url}${path}`, { connections: CONNECTIONS, duration: MEASURE_SECONDS });
  const s1 = await server.stats();
  const cpu = s1.cpuMicros - s0.cpuMicros;
  return { ...r, cores: cpu / (r.seconds * 1e6), cpuPerRequestUs: cpu / Math.max(1, r.requests) };
}

async function throughputSection(script: string, host: ServerProcess, body: string): Promise<void> {
  const constant = await startServerProcess(script, 'host-constant', { BENCH_BODY: body });
  const bare = await startServerProcess(script, 'bare', { BENCH_BODY: body });
  try {
    const rounds: Round[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      progress(`throughput round ${i + 1}/${ROUNDS}: ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${MEASURE_SECONDS} s each; host, constant-handler host, bare`);
      rounds.push({
        host: await measured(host, '/api/token'),
        constant: await measured(constant, '/api/token'),
        bare: await measured(bare, '/'),
      });
    }
    const rps = (side: Side) => median(rounds.map((r) => r[side].reqPerSec));
    const p = (side: Side, q: 'p50' | 'p99') => fmt(median(rounds.map((r) => r[side][q])), 2);
    const cpu = (side: Side) => fmt(median(rounds.map((r) => r[side].cpuPerRequestUs)), 1);
    const bad = rounds.reduce((n, r) => n + Object.values(r).reduce((m, x) => m + x.non2xx + x.errors, 0), 0);
    const ratio = rps('host') / rps('bare');
    rows.unshift(
      {
        figure: '1. Warm `GET /api/token` throughput: local host ÷ bare `node:http` (same body), median of rounds',
        measured: `${fmt(ratio, 2)} (${fmt(rps('host'))} ÷ ${fmt(rps('bare'))} req/s)`,
        target: '≥ 0.8',
        verdict: bad > 0 ? 'ERROR' : verdict(ratio >= 0.8),
      },
      {
        figure: '1. Warm latency p50 / p99: local host | bare `node:http`',
        measured: `${p('host', 'p50')} / ${p('host', 'p99')} ms | ${p('bare', 'p50')} / ${p('bare', 'p99')} ms`,
        target: '—',
        verdict: 'info',
      },
      {
        figure: '1. The broker\'s share: local host with the real token handler ÷ the same host with a constant handler',
        measured: `${fmt(rps('host') / rps('constant'), 2)} (${fmt(rps('host'))} ÷ ${fmt(rps('constant'))} req/s)`,
        target: '—',
        verdict: 'info',
      },
    );
    const bareStats = await bare.stats();
    const side = (r: Measured) => `${fmt(r.reqPerSec)} req/s on ${fmt(r.cores, 2)} cores`;
    detail(
      1,
      `Throughput rounds, host | constant-handler host | bare: ` +
        rounds.map((r) => `${side(r.host)} | ${side(r.constant)} | ${side(r.bare)}`).join('; ') +
        `. Server CPU per request (median): host ${cpu('host')} µs, constant-handler host ${cpu('constant')} µs, bare ${cpu('bare')} µs. ` +
        `Non-2xx or errors: ${bad}. Bare server RSS at the end ${mib(bareStats.rss)}.`,
    );
  } finally {
    await Promise.all([constant.stop(), bare.stop()]);
  }
}

/** The bare server's body: the host's answer with the token replaced by as many filler characters. */
async function bodyLike(url: string): Promise<string> {
  const res = await fetch(url);
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200 || typeof body.access_token !== 'string') throw new Error(`GET /api/token answered ${res.status}`);
  return JSON.stringify({ ...body, access_token: 'x'.repeat(body.access_token.length) });
}

function machine(start: Date, load0: number): string[] {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return [
    `- Date: ${start.toISOString()}`,
    `- Node ${process.version} on ${process.platform} ${release()} (${process.arch})`,
    `- CPU: ${cpu}, ${availableParallelism()} cores; memory ${fmt(totalmem() / 1024 ** 3, 1)} GiB`,
    `- Load average (1 min) when the bench started: ${fmt(load0, 2)}` +
      (load0 > 0.5 ? ' (other work was running: absolute figures are noisy, the interleaved ratios less so)' : ''),
  ];
}

function render(start: Date, load0: number, seconds: number): string {
  const missed = rows.filter((r) => r.verdict === 'MISS' || r.verdict === 'ERROR');
  return [
    '## Benchmark (`npm run bench`)',
    '',
    '| Figure | Measured | Target | Result |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.figure} | ${r.measured} | ${r.target} | ${r.verdict} |`),
    '',
    missed.length === 0
      ? 'All targets met.'
      : `**Targets missed:** ${missed
          .map((r) => `${r.figure.split('.')[0]} (${r.verdict === 'ERROR' ? 'not measured' : `${r.measured.split(' (')[0]}, target ${r.target}`})`)
          .join('; ')}.`,
    '',
    ...machine(start, load0),
    `- Bench wall time: ${fmt(seconds)} s`,
    '',
    '### Details',
    '',
    ...[...details].sort((a, b) => a.n - b.n).map((d) => `- ${d.n > 0 ? `(${d.n}) ` : ''}${d.text}`),
    '',
    '### How it is measured',
    '',
    `The app and the bench's server (test/bench/server.ts) are compiled with tsc (tsconfig.build.json) into a temporary folder and the servers run from there with plain \`node --expose-gc\` (compiled JS is what Azure runs; no tsx loader in the measured process). Servers and load generator are separate processes on loopback.`,
    '',
    `1. The host is \`startHost\` with the real token, health and timer functions in a forked child, its settings in its environment pointing at the Maskinporten, Altinn and Key Vault simulators (which run in the bench process). The bare server is another child: \`node:http\`, the same JSON body (the token replaced by filler of equal length) and headers, with a precomputed content-length. A third child is the local host again with the token route's handler replaced by one answering that constant body: the host's own cost without the broker. autocannon runs in the bench process: ${CONNECTIONS} keep-alive connections, no pipelining, ${WARMUP_SECONDS} s warm-up then ${MEASURE_SECONDS} s measured, the three alternating for ${ROUNDS} rounds; the ratio is of the median req/s. p50/p99 are of every 2xx response's own time. On ${availableParallelism()} cores the load generator has one core: the bare figure is bounded by it (see its CPU use in the details), so if anything the ratio flatters the host.`,
    `2. Each figure is the median over ${IMPORT_RUNS} fresh \`node\` processes (the two sets alternating) of the time the process spends in \`await import()\` of the compiled \`functions/token.js\`, \`health.js\`, \`health-details.js\`, \`refresh-timer.js\`, \`startup.js\` in turn, or of \`@azure/functions\` alone; node's own start-up is the same for both and left out.`,
    `3. A fresh host on a fresh world (empty cache, no token secret) gets ${fmt(BURST)} \`GET /api/token\` started at once, each on its own connection; the simulators count Maskinporten token requests, Altinn exchange requests (the Altinn OpenID metadata and key set, fetched once to verify the token, are reported apart) and Key Vault PUTs (successful or not). Every answer must be 200 with one and the same token.`,
    `4. \`signGrant\` with the key from \`decodeKey\` (base64 JWK) against \`crypto.sign('sha256', input, keyObject)\` of the same private key over a signing input of a real grant's length; ${fmt(SIGN_ITERATIONS)} timed calls of each after a warm-up, interleaved, per-call median.`,
    `5. \`process.memoryUsage().rss\` of a fresh host process, over IPC, after one request that mints the token and then ${fmt(RSS_REQUESTS)} warm requests on ${CONNECTIONS} connections (the same host then serves the throughput rounds).`,
    `6. As 2. but ${TELEMETRY_IMPORT_RUNS} runs each: the five function modules in fresh processes, once with \`APPLICATIONINSIGHTS_CONNECTION_STRING\` set (telemetry on: its ingestion endpoint a closed loopback port) and once without, alternating; the ratio of the medians.`,
    `7. A fresh process (compiled \`server.js\` in \`cold\` mode, forked) does what the Functions worker does: imports the function modules, runs the app start hook (key check; with telemetry on it arms the set-up), then serves through the local host; the vault already holds a valid token (put there by a refresh in the bench process). The figure is from the fork to the 200 answer to its first \`GET /api/token\`, ${COLD_RUNS} processes with telemetry off and ${COLD_RUNS} with it on, alternating; the ratio of the medians. \`BENCH_ONLY=cold npm run bench\` runs figures 6 and 7 alone.`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const start = new Date();
  const load0 = loadavg()[0]!;
  const watchdog = setTimeout(() => {
    progress('gave up: the bench took longer than 5 minutes');
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();

  progress('building the app and the bench server into a temporary folder (tsc, tsconfig.build.json)');
  const app = await buildApp(REPO, [SERVER_SOURCE]);
  try {
    if (app.warning) detail(0, `The build emitted with type errors (work in progress elsewhere): ${app.warning.slice(0, 200)}`);
    if (!COLD_ONLY) {
      await section('4. Grant signing', '≤ 1.2', signingSection);
      await section('2. Cold import', '≤ 1.5', () => coldImportSection(app));
    }

    const script = join(app.dir, SERVER_SOURCE.replace(/\.ts$/, '.js'));
    await section('6./7. Cold import and cold first token, telemetry on and off', '0.9 – 1.1', () => coldTelemetrySection(app, script));
    if (!COLD_ONLY) {
      progress('starting the simulators and a host process for the burst');
      await section('3. Upstream calls for 1,000 concurrent requests', '1 / 1 / 1', () => burstSection(script));

      progress('starting the simulators and a fresh host process for memory and throughput');
      const world = await startWorld();
      let host: ServerProcess | undefined;
      try {
        host = await startServerProcess(script, 'host', { ...world.env });
        const h = host;
        await section('5. Host RSS after 10,000 requests', '≤ 120 MB', () => rssSection(world, h));
        await section('1. Warm throughput ratio', '≥ 0.8', async () => throughputSection(script, h, await bodyLike(`${h.url}/api/token`)));
      } finally {
        await host?.stop();
        await world.close();
      }
    }
  } finally {
    await app.dispose();
  }

  rows.sort((a, b) => Number.parseInt(a.figure, 10) - Number.parseInt(b.figure, 10));
  const text = render(start, load0, (Date.now() - start.getTime()) / 1000);
  if (COLD_ONLY) {
    process.stdout.write(`${text}\n(BENCH_ONLY=cold: figures 6 and 7 only; ${RESULTS} left as it was)\n`);
  } else {
    await writeFile(RESULTS, text);
    process.stdout.write(`${text}\nWritten to ${RESULTS}\n`);
  }
  clearTimeout(watchdog);
}

main().catch((err: unknown) => {
  progress(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
