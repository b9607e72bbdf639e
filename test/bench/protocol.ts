// The IPC messages between bench.ts and its server process (server.ts), and the forking helper.
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** `gc`: collect garbage first (the server runs with --expose-gc), to tell retained memory from garbage. */
export type ServerMode = 'host' | 'host-constant' | 'bare' | 'cold';

/** `telemetry`: first do what the Functions worker's postInvocation hook does (start the telemetry set-up) and wait
 *  for it to finish. */
export type BenchRequest = { type: 'stats'; gc?: boolean; telemetry?: boolean } | { type: 'stop' };

export type ServerMessage =
  | { type: 'ready'; url: string }
  | ({ type: 'stats' } & ServerStats)
  | { type: 'error'; message: string };

export interface ServerStats {
  readonly rss: number;
  readonly heapUsed: number;
  /** CPU time (user + system) used by the process so far, in microseconds. */
  readonly cpuMicros: number;
  /** Log lines the host emitted so far (host mode). */
  readonly logLines: number;
  /** ms from arming until the telemetry SDK was in place (cold mode with telemetry on). */
  readonly telemetrySetupMs?: number;
  readonly telemetryOk?: boolean;
}

export interface ServerProcess {
  readonly url: string;
  stats(options?: { gc?: boolean; telemetry?: boolean }): Promise<ServerStats>;
  stop(): Promise<void>;
}

/** Forks the compiled server.js (plain node, as Azure runs compiled JS) in `mode` with exactly `env`, and waits
 *  until it listens. */
export async function startServerProcess(script: string, mode: ServerMode, env: Record<string, string>): Promise<ServerProcess> {
  const child: ChildProcess = fork(script, [mode], {
    execArgv: ['--expose-gc'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  // @azure/functions warns on stderr that it runs outside the Functions host ("test mode"): expected here.
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (!line.startsWith('WARNING: ')) process.stderr.write(`server (${mode}): ${line}\n`);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = <T extends ServerMessage['type']>(type: T, timeoutMs: number): Promise<Extract<ServerMessage, { type: T }>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`server (${mode}) sent no "${type}" within ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (msg: ServerMessage) => {
        if (msg.type === type) done(undefined, msg as Extract<ServerMessage, { type: T }>);
        else if (msg.type === 'error') done(new Error(`server (${mode}): ${msg.message}`));
      };
      const onExit = () => done(new Error(`server (${mode}) exited`));
      function done(err?: Error, msg?: Extract<ServerMessage, { type: T }>): void {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (err) reject(err);
        else resolve(msg!);
      }
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const { url } = await next('ready', 30_000);
  return {
    url,
    stats: async (options = {}) => {
      const reply = next('stats', options.telemetry ? 30_000 : 5_000);
      child.send({ type: 'stats', ...options } satisfies BenchRequest);
      const { type: _type, ...stats } = await reply;
      return stats;
    },
    stop: async () => {
      if (child.exitCode === null) child.send({ type: 'stop' } satisfies BenchRequest);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
