// Runs the local host as a child process and waits until it listens: `npm run host` (as a user would, in its own
// process group) or, for the demo, node with the tsx import hook directly (a child that stops when its parent is
// gone, see shared/local/lifecycle.ts). Stops it with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface HostProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the host printed so far (stdout and stderr). */
  output(): string;
  /** Passes everything the host prints from now on to `write` as well. */
  follow(write: (text: string) => void): void;
  /** SIGTERM to the whole process group (npm and the host, as a terminal's Ctrl+C or a supervisor does), or to the
   *  direct child; resolves once it has exited. */
  stop(): Promise<void>;
  /** true while any process of the group (or the direct child) is alive. */
  alive(): boolean;
}

export interface HostProcessOptions {
  /** true: `node --import tsx shared/local/host-main.ts` as a plain child of this process, not `npm run host`. */
  readonly direct?: boolean;
}

/** `env` is the host's whole environment (plus PATH and HOME); PORT defaults to 0, a free port. */
export async function startHostProcess(env: Record<string, string>, cwd = process.cwd(), options: HostProcessOptions = {}): Promise<HostProcess> {
  const fullEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', ...env };
  const child = options.direct
    ? spawn(process.execPath, ['--import', 'tsx', 'shared/local/host-main.ts'], { cwd: REPO, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('npm', ['run', '--silent', 'host'], { cwd, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const followers: Array<(text: string) => void> = [];
  const onData = (d: Buffer) => {
    const text = d.toString();
    out += text;
    for (const write of followers) write(text);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let done = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => (done = true));
  const alive = () => {
    if (options.direct) return !done;
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
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`host exited:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    follow: (write) => void followers.push(write),
    alive,
    stop: async () => {
      if (alive()) {
        try {
          process.kill(options.direct ? child.pid! : -child.pid!, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      await exited;
      for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
    },
  };
}
