// Runs the command line as a user would, as a child process (tsx, or `npm run`), with exactly the environment given
// (plus PATH and HOME) so that no setting leaks in from the test runner's own environment.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TSX = `${REPO}node_modules/tsx/dist/cli.mjs`;
const MAIN = `${REPO}shared/cli/main.ts`;

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr together: what a user sees, and what must never hold secret material. */
  readonly all: string;
}

export interface RunOptions {
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Run through `npm run --silent <command> -- <args>` instead of tsx directly (checks the package.json scripts). */
  readonly viaNpm?: boolean;
}

/** `args` starts with the command: ['keygen', 'myorg', '--out', dir]. */
export function runCli(args: readonly string[], o: RunOptions): Promise<CliResult> {
  const [file, argv] = o.viaNpm
    ? ['npm', ['--prefix', REPO, 'run', '--silent', args[0] ?? '', '--', ...args.slice(1)]]
    : [process.execPath, [TSX, MAIN, ...args]];
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...o.env };
  return new Promise((resolve, reject) => {
    execFile(file, argv, { cwd: o.cwd, env, timeout: 25_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : undefined;
      if (code === undefined) return reject(new Error(`CLI did not run (${err?.message}):\n${stdout}\n${stderr}`));
      resolve({ code, stdout, stderr, all: `${stdout}\n${stderr}` });
    });
  });
}

/** Anything shaped like a JWT/JWS compact serialisation. */
export const JWT_PATTERN = /eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+/;

/** The pretty JSON block printed under a heading such as "Claims:". */
export function block(text: string, heading: string): Record<string, unknown> {
  const m = new RegExp(`^${heading}:\\n(\\{[\\s\\S]*?\\n\\})$`, 'm').exec(text);
  if (!m) throw new Error(`no "${heading}:" block in:\n${text}`);
  return JSON.parse(m[1]!) as Record<string, unknown>;
}
