// Stopping `npm start`, `npm run host` and `npm run sims` the way a process manager, an IDE's stop button, a closed
// terminal or CI does: one signal to npm's own pid (not to the group). Within 10 s the whole process group must be
// gone and every port it listened on free again. Also: a long-running `npm start` keeps showing the host's log
// lines after the walkthrough, and `npm run sims` writes its settings to an env file that it removes on exit.
import { afterEach, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const STOP_WITHIN_MS = 10_000;

interface Run {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves once the output matches (rejects after 30 s or when npm exits first). */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
}

const started: ChildProcess[] = [];

/**
 * true while any process of the group still runs. A process that has exited but not yet been reaped (a zombie: its
 * parent, here the machine's init after npm is gone, collects it on its own schedule) holds no port and runs no
 * code, so it does not count.
 */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so read from the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

afterEach(() => {
  // A failed test must not leave its processes behind.
  for (const child of started.splice(0)) if (groupAlive(child.pid!)) process.kill(-child.pid!, 'SIGKILL');
});

/** `npm run --silent <script> -- <args>` in its own process group, as a terminal or supervisor starts it. */
function npmRun(script: string, args: readonly string[] = []): Run {
  const child = spawn('npm', ['run', '--silent', script, ...(args.length ? ['--', ...args] : [])], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', REFRESH_SCHEDULE: '0 0 * * * *', REFRESH_BEFORE_EXPIRY_SECONDS: '3600' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  started.push(child);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  return {
    child,
    output: () => out,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`timed out waiting for ${pattern}:\n${out}`)), 30_000);
        const check = () => {
          const m = pattern.exec(out);
          if (m) done(undefined, m);
        };
        const onExit = () => done(new Error(`npm exited before ${pattern}:\n${out}`));
        function done(err?: Error, m?: RegExpExecArray) {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
          if (err) reject(err);
          else resolve(m!);
        }
        listeners.add(check);
        child.once('exit', onExit);
        check();
      }),
  };
}

/** Every 127.0.0.1 port the processes printed. */
function portsIn(text: string): number[] {
  return [...new Set([...text.matchAll(/http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])))];
}

/** true when this process can listen on the port, i.e. nobody else does. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function portsFree(ports: readonly number[]): Promise<boolean> {
  return (await Promise.all(ports.map(portFree))).every(Boolean);
}

/** Sends `signal` to npm's pid only; waits (bounded) until its group is gone and the ports are free. */
async function stopWith(run: Run, signal: NodeJS.Signals, ports: readonly number[]): Promise<number> {
  expect(ports.length).toBeGreaterThan(0);
  expect(await portsFree(ports)).toBe(false);
  const pid = run.child.pid!;
  const t0 = Date.now();
  process.kill(pid, signal);
  while (Date.now() - t0 < STOP_WITHIN_MS && (groupAlive(pid) || !(await portsFree(ports)))) await new Promise((r) => setTimeout(r, 100));
  expect({ groupAlive: groupAlive(pid), portsFree: await portsFree(ports) }).toEqual({ groupAlive: false, portsFree: true });
  return Date.now() - t0;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

describe('one signal to npm stops the whole tree and frees every port within 10 s', () => {
  test.each(SIGNALS)('npm run host, %s', async (signal) => {
    const run = npmRun('host');
    await run.waitFor(/token: \[GET\] http:\/\/127\.0\.0\.1:\d+/);
    expect(await stopWith(run, signal, portsIn(run.output()))).toBeLessThan(STOP_WITHIN_MS);
  }, 45_000);

  test.each(SIGNALS)('npm start (demo, host and simulators), %s', async (signal) => {
    const run = npmRun('start');
    await run.waitFor(/its log lines follow/);
    const ports = portsIn(run.output());
    expect(ports.length).toBeGreaterThanOrEqual(4); // Maskinporten, Altinn, Key Vault, the host
    expect(await stopWith(run, signal, ports)).toBeLessThan(STOP_WITHIN_MS);
  }, 60_000);

  // npm killed outright sends nothing on: the processes notice that their parent is gone.
  test.each(['host', 'start'] as const)('npm run %s, SIGKILL to npm', async (script) => {
    const run = npmRun(script);
    await run.waitFor(script === 'host' ? /token: \[GET\] http:\/\/127\.0\.0\.1:\d+/ : /its log lines follow/);
    expect(await stopWith(run, 'SIGKILL', portsIn(run.output()))).toBeLessThan(STOP_WITHIN_MS);
    expect(run.output()).toMatch(/parent process exited: stopping/);
  }, 60_000);

  test.each(['SIGTERM', 'SIGHUP'] as const)('npm run sims, %s; the env file it wrote is removed', async (signal) => {
    const envFile = join(mkdtempSync(join(tmpdir(), 'sims-')), 'sims.env');
    const run = npmRun('sims', ['--settings', envFile]);
    await run.waitFor(/or paste the export lines/);
    expect(readFileSync(envFile, 'utf8')).toMatch(/^export KEY_VAULT_URL='http:\/\/127\.0\.0\.1:\d+'$/m);
    expect(await stopWith(run, signal, portsIn(run.output()))).toBeLessThan(STOP_WITHIN_MS);
    expect(existsSync(envFile)).toBe(false);
  }, 45_000);
});

describe('npm start keeps running', () => {
  test("after the walkthrough its curl line works, and it shows the host's and the timer's log lines as they happen", async () => {
    const run = npmRun('start');
    const [, url] = await run.waitFor(/curl -s -X POST (http:\/\/127\.0\.0\.1:\d+)\/admin\/functions\/refreshTokens/);
    // The printed curl line works: it carries a caller token from the local Entra ID simulator that opens the token
    // route, and it is the only JWT in the output (the Altinn token itself is never printed).
    const [, callerToken, tokenUrl] = /curl -s -H "Authorization: Bearer (eyJ[\w-]+\.[\w-]+\.[\w-]+)" (http:\/\/127\.0\.0\.1:\d+\/api\/token)\n/.exec(run.output())!;
    expect(decodeJwt(callerToken!)).toMatchObject({ iss: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]{36}\/v2\.0$/), roles: ['Tokens.Read.All', 'Health.Read'] });
    expect((await fetch(tokenUrl!)).status).toBe(401);
    const served = await fetch(tokenUrl!, { headers: { authorization: `Bearer ${callerToken}` } });
    expect(served.status).toBe(200);
    const { access_token: altinnToken } = (await served.json()) as { access_token: string };
    expect(new Set(run.output().match(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g))).toEqual(new Set([callerToken]));
    expect(run.output()).not.toContain(altinnToken);
    const marker = (await run.waitFor(/its log lines follow\.[^\n]*\n/)).index;
    const res = await fetch(`${url}/admin/functions/refreshTokens`, { method: 'POST' });
    expect(res.status).toBe(202);
    // The second refresh finds a fresh token: the timer's line appears after the walkthrough.
    await run.waitFor(/its log lines follow[\s\S]*refreshTokens: Refresh run: default=fresh/);
    expect(run.output().slice(marker)).toMatch(/\[information\] refreshTokens: Refresh run: default=fresh/);
    await stopWith(run, 'SIGTERM', portsIn(run.output()));
  }, 60_000);
});
