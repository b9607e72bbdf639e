// Runs `npm run host` as a child process (as a user would) and waits until it listens; stops it with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';

export interface HostProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the host printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM to the whole process group (npm, its shell, the host), as a terminal's Ctrl+C or a supervisor does;
   *  resolves once npm has exited. */
  stop(): Promise<void>;
  /** true while any process of the group is alive. */
  alive(): boolean;
}

/** `env` is the host's whole environment (plus PATH and HOME); PORT defaults to 0, a free port. */
export async function startHostProcess(env: Record<string, string>, cwd = process.cwd()): Promise<HostProcess> {
  const child = spawn('npm', ['run', '--silent', 'host'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => void (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => void (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => {
    try {
      process.kill(-child.pid!, 0);
      return true;
    } catch {
      return false;
    }
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`host did not start:\n${out}`)), 20_000);
    const check = () => {
      const m = /token: \[GET\] (http:\/\/[\d.:]+)\/api\/token/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', () => reject(new Error(`host exited:\n${out}`)));
  });
  return {
    url,
    child,
    output: () => out,
    alive,
    stop: async () => {
      if (alive()) process.kill(-child.pid!, 'SIGTERM');
      await exited;
      for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
    },
  };
}
