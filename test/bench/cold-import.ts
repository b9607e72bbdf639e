// Cold import time of the compiled function modules (what Azure loads) against `@azure/functions` alone: the app is
// built with tsc into a temporary folder, and each figure is the median of fresh `node` processes, each timing its
// own dynamic imports (node's own start-up, the same for both, is left out).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { median } from './load.js';

const run = promisify(execFile);

export interface ImportSet {
  readonly label: string;
  /** Bare specifiers, or paths relative to the build folder. */
  readonly modules: readonly string[];
  /** Extra environment of the importing process (e.g. APPLICATIONINSIGHTS_CONNECTION_STRING). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface BuiltApp {
  readonly dir: string;
  readonly buildMs: number;
  /** tsc's complaint, when it emitted with type errors (another engineer's work in progress). */
  readonly warning?: string;
  dispose(): Promise<void>;
}

/** Compiles the app (tsconfig.build.json) plus `extra` source files into a temporary folder that resolves packages
 *  from this repo's node_modules; `<dir>/functions/token.js` is what Azure would load. */
export async function buildApp(repo: string, extra: readonly string[] = []): Promise<BuiltApp> {
  const dir = await mkdtemp(join(tmpdir(), 'broker-bench-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  const t0 = performance.now();
  let warning: string | undefined;
  try {
    await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    await symlink(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const tsconfig = {
      extends: join(repo, 'tsconfig.build.json'),
      compilerOptions: { rootDir: repo, outDir: dir, sourceMap: false },
      include: [join(repo, 'functions/**/*.ts'), join(repo, 'shared/**/*.ts'), ...extra.map((f) => join(repo, f))],
      exclude: [],
    };
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: repo });
  } catch (err) {
    const out = (err as { stdout?: string }).stdout ?? '';
    if (!existsSync(join(dir, 'functions', 'token.js'))) {
      await dispose();
      throw new Error(`tsc build failed:\n${out}`);
    }
    warning = out.split('\n').slice(0, 3).join(' ');
  }
  return { dir, buildMs: performance.now() - t0, ...(warning !== undefined && { warning }), dispose };
}

/** One fresh process: ms spent importing `set.modules` in order. */
async function importOnce(dir: string, set: ImportSet): Promise<number> {
  const specs = set.modules.map((m) => (m.startsWith('.') ? pathToFileURL(resolve(dir, m)).href : m));
  const code = [
    `const specs = ${JSON.stringify(specs)};`,
    'const t0 = performance.now();',
    'for (const s of specs) await import(s);',
    'const ms = performance.now() - t0;',
    'process.stdout.write(`\\n@@bench ${ms}\\n`);',
    'process.exit(0);',
  ].join('\n');
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...set.env },
    timeout: 30_000,
  });
  const m = /@@bench ([\d.]+)/.exec(stdout);
  if (!m) throw new Error(`no timing from the import of ${set.label}`);
  return Number(m[1]);
}

/** Median import ms of each set over `runs` fresh processes, the sets interleaved run by run. */
export async function medianImportMs(dir: string, sets: readonly ImportSet[], runs: number): Promise<number[]> {
  const samples = sets.map(() => [] as number[]);
  await importOnce(dir, sets[0]!); // fills the OS file cache: every measured run is equally "warm disk, cold process"
  for (let r = 0; r < runs; r++) {
    for (let i = 0; i < sets.length; i++) samples[i]!.push(await importOnce(dir, sets[i]!));
  }
  return samples.map(median);
}
