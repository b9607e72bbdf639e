// The bench's server process (forked by bench.ts with an IPC channel, so the servers never share an event loop with
// the load generator). `host`: the local host serving the real function handlers, runtime from the environment;
// `host-constant`: the same local host whose token route answers a constant body (the host's own cost, no broker);
// `bare`: a node:http server answering that constant body. Answers { type: 'stats' } with its memory and CPU figures.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerMessage, BenchRequest } from './protocol.js';

const mode = process.argv[2];
let logLines = 0;

function reply(msg: ServerMessage): void {
  process.send?.(msg);
}

async function startHostMode(): Promise<{ url: string; close(): Promise<void> }> {
  // The settings (pointing at the simulators in the bench process) are this process's environment, as in Azure;
  // the function modules are imported after that, as the host does (the timer reads REFRESH_SCHEDULE on load).
  const [{ startHost }, { loadFunctions }, { getRuntime }] = await Promise.all([
    import('../../shared/local/host.js'),
    import('../../shared/local/functions.js'),
    import('../../shared/runtime.js'),
  ]);
  getRuntime(); // fails fast on bad settings
  const host = await startHost({
    port: 0,
    ...(await loadFunctions()),
    schedule: false,
    // The Functions host ships logs elsewhere; here they are only counted (a warm request logs its one audit line).
    log: () => void logLines++,
  });
  return host;
}

const BODY_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache' } as const;

async function startConstantHostMode(body: string): Promise<{ url: string; close(): Promise<void> }> {
  const [{ startHost }, { tokenOptions }] = await Promise.all([import('../../shared/local/host.js'), import('../../functions/token.js')]);
  return startHost({
    port: 0,
    http: [{ name: 'token', options: { ...tokenOptions, handler: async () => ({ status: 200, headers: { ...BODY_HEADERS }, body }) } }],
    timers: [],
    schedule: false,
    log: () => void logLines++,
  });
}

/** As the Functions worker does it: the function modules (the start hook's among them), then the app start hook
 *  (key check; with APPLICATIONINSIGHTS_CONNECTION_STRING it arms the telemetry set-up), then requests. */
async function startColdMode(): Promise<{ url: string; close(): Promise<void> }> {
  const { loadFunctions } = await import('../../shared/local/functions.js');
  const functions = await loadFunctions();
  const { startupHandler } = await import('../../functions/startup.js');
  await startupHandler();
  const { startHost } = await import('../../shared/local/host.js');
  return startHost({ port: 0, ...functions, schedule: false, log: () => void logLines++ });
}

async function telemetryStats(): Promise<{ telemetrySetupMs?: number; telemetryOk?: boolean }> {
  const [{ telemetryIdle }, { telemetryReady, telemetrySetupMs }] = await Promise.all([import('../../shared/core.js'), import('../../shared/telemetry/start.js')]);
  telemetryIdle();
  const ok = await telemetryReady();
  const ms = telemetrySetupMs();
  return { telemetryOk: ok, ...(ms !== undefined && { telemetrySetupMs: ms }) };
}

async function startBareMode(body: string): Promise<{ url: string; close(): Promise<void> }> {
  const headers = { ...BODY_HEADERS, 'content-length': String(Buffer.byteLength(body)) };
  const server = createServer((_req, res) => {
    res.writeHead(200, headers);
    res.end(body);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function main(): Promise<void> {
  const body = process.env.BENCH_BODY ?? '{}';
  const server =
    mode === 'host'
      ? await startHostMode()
      : mode === 'host-constant'
        ? await startConstantHostMode(body)
        : mode === 'cold'
          ? await startColdMode()
          : await startBareMode(body);
  process.on('message', async (msg: BenchRequest) => {
    if (msg.type === 'stats') {
      const telemetry = msg.telemetry ? await telemetryStats() : {};
      if (msg.gc) (globalThis as { gc?: () => void }).gc?.();
      const m = process.memoryUsage();
      const cpu = process.cpuUsage();
      reply({ type: 'stats', rss: m.rss, heapUsed: m.heapUsed, cpuMicros: cpu.user + cpu.system, logLines, ...telemetry });
    } else if (msg.type === 'stop') {
      void server.close().then(() => process.exit(0));
    }
  });
  reply({ type: 'ready', url: server.url });
}

main().catch((err: unknown) => {
  reply({ type: 'error', message: err instanceof Error ? `${err.name}: ${err.message}` : 'failed to start' });
  process.exit(1);
});
