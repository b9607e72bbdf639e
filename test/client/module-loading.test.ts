// What a consumer gets from `<package>/client`: the package's client folder is built with tsc (the build config),
// installed into a consumer's node_modules, and imported by its package name in a fresh `node` process whose module
// loads are recorded by a loader hook. Importing it loads neither @azure/functions nor the broker's own code, and
// @azure/identity / @azure/keyvault-secrets only when a token is first asked for. Its types resolve through `exports`.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

const run = promisify(execFile);
const repo = resolve('.');
const PKG = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
let dir: string;

const RECORD_HOOKS = `
import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function load(url, context, next) { appendFileSync(out, url + '\\n'); return next(url, context); }
`;
const REGISTER = `
import { register } from 'node:module';
register('./record-hooks.mjs', import.meta.url, { data: { out: process.env.RECORD_OUT } });
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'broker-client-'));
  const pkg = join(dir, 'pkg');
  await mkdir(pkg);
  await writeFile(join(pkg, 'package.json'), readFileSync(join(repo, 'package.json')));
  await symlink(join(repo, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  const tsconfig = {
    extends: join(repo, 'tsconfig.build.json'),
    compilerOptions: { rootDir: repo, outDir: join(pkg, 'dist'), sourceMap: false, typeRoots: [join(repo, 'node_modules/@types')] },
    include: [join(repo, 'client/**/*.ts')],
    exclude: [],
  };
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  await run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { cwd: repo });
  const consumer = join(dir, 'consumer');
  await mkdir(join(consumer, 'node_modules'), { recursive: true });
  await symlink(pkg, join(consumer, 'node_modules', PKG.name), 'dir');
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ type: 'module' }));
  await writeFile(join(consumer, 'record-hooks.mjs'), RECORD_HOOKS);
  await writeFile(join(consumer, 'register.mjs'), REGISTER);
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs `code` as an ES module in the consumer folder; returns its JSON output and every module URL loaded. */
async function inConsumer(code: string, env: Record<string, string> = {}): Promise<{ out: Record<string, unknown>; loaded: string[] }> {
  const consumer = join(dir, 'consumer');
  const file = join(consumer, `main-${Math.random().toString(36).slice(2)}.mjs`);
  const record = `${file}.loaded`;
  await writeFile(file, code);
  await writeFile(record, '');
  const { stdout } = await run(process.execPath, ['--import', './register.mjs', file], {
    cwd: consumer,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', RECORD_OUT: record, ...env },
    timeout: 60_000,
  });
  return { out: JSON.parse(stdout) as Record<string, unknown>, loaded: readFileSync(record, 'utf8').split('\n').filter(Boolean) };
}

const azure = (loaded: string[], name: string) => loaded.filter((u) => u.includes(`/node_modules/@azure/${name}/`));

describe(`import '${PKG.name}/client'`, () => {
  test('exports the client with its types from dist/', () => {
    expect(PKG.exports['./client']).toEqual({ types: './dist/client/index.d.ts', default: './dist/client/index.js' });
    expect(existsSync(join(dir, 'pkg/dist/client/index.d.ts'))).toBe(true);
    // the client's build pulled in nothing of the broker
    expect(existsSync(join(dir, 'pkg/dist/shared'))).toBe(false);
    expect(existsSync(join(dir, 'pkg/dist/functions'))).toBe(false);
  });

  test('loads neither @azure/functions nor the broker core, and no Azure SDK until a token is needed', async () => {
    const { out, loaded } = await inConsumer(`
      import { createRequire } from 'node:module';
      const m = await import('${PKG.name}/client');
      m.createBrokerClient({ url: 'https://broker.example.net', scope: 'api://broker/.default' });
      m.createVaultTokenSource({ vaultUrl: 'https://vault.vault.azure.net' });
      const cjs = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({ exports: Object.keys(m).sort(), cjs }));
    `);
    expect(out.exports).toEqual(['BrokerClientError', 'createBrokerClient', 'createVaultTokenSource', 'parseRetryAfter']);
    expect(loaded.some((u) => u.endsWith('/pkg/dist/client/index.js'))).toBe(true);
    const ours = loaded.filter((u) => u.includes('/pkg/dist/'));
    expect(ours.length).toBeGreaterThan(1);
    expect(ours.filter((u) => !u.includes('/pkg/dist/client/'))).toEqual([]);
    const everything = [...loaded, ...(out.cjs as string[]).map((p) => `file://${p}`)];
    for (const name of ['functions', 'identity', 'keyvault-secrets', 'core-rest-pipeline']) expect(azure(everything, name)).toEqual([]);
    expect(everything.filter((u) => /\/(shared|functions)\/[^/]+\.(js|ts)$/.test(u) && !u.includes('node_modules'))).toEqual([]);
  });

  test('the recorder does see a CommonJS package such as @azure/functions when it is imported', async () => {
    const { loaded } = await inConsumer(`
      await import('${PKG.name}/client');
      await import(${JSON.stringify(pathToFileURL(createRequire(join(repo, 'package.json')).resolve('@azure/functions')).href)});
      console.log('{}');
    `);
    expect(azure(loaded, 'functions').length).toBeGreaterThan(0);
  });

  test('the default credential (DefaultAzureCredential) is built on the first getToken only', async () => {
    // EnvironmentCredential is tried first; its token endpoint is a closed loopback port, so the attempt fails at once.
    const { out, loaded } = await inConsumer(
      `
      const m = await import('${PKG.name}/client');
      const c = m.createBrokerClient({ url: 'https://broker.example.net', scope: 'api://broker/.default' });
      const err = await c.getToken().catch((e) => e);
      console.log(JSON.stringify({ name: err.name, code: err.code }));
    `,
      { AZURE_TENANT_ID: '00000000-0000-4000-8000-000000000001', AZURE_CLIENT_ID: '00000000-0000-4000-8000-000000000002', AZURE_CLIENT_SECRET: 'not-a-secret', AZURE_AUTHORITY_HOST: 'http://127.0.0.1:9' },
    );
    expect(out).toEqual({ name: 'BrokerClientError', code: 'CREDENTIAL_FAILED' });
    expect(azure(loaded, 'identity').length).toBeGreaterThan(0);
    expect(azure(loaded, 'functions')).toEqual([]);
  }, 60_000);

  test('a TypeScript consumer type-checks against the published types', async () => {
    const consumer = join(dir, 'consumer');
    await writeFile(
      join(consumer, 'app.ts'),
      `import { createBrokerClient, createVaultTokenSource, BrokerClientError, type BrokerClient, type AccessToken } from '${PKG.name}/client';
const broker: BrokerClient = createBrokerClient({ url: 'https://broker.example.net', scope: 'api://broker/.default', profile: 'default' });
const vault: BrokerClient = createVaultTokenSource({ vaultUrl: 'https://v.vault.azure.net', secretName: 'altinn-token' });
export async function use(): Promise<string> {
  const t: AccessToken = await broker.getToken();
  const res: Response = await vault.fetch('https://platform.altinn.no/x', { method: 'GET' });
  try { return t.token + t.expiresAt.toISOString() + res.status; } catch (e) { return e instanceof BrokerClientError ? e.code : ''; }
}
// @ts-expect-error scope is required
createBrokerClient({ url: 'https://broker.example.net' });
`,
    );
    const config = {
      compilerOptions: {
        target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: true,
        types: ['node'], typeRoots: [join(repo, 'node_modules/@types')],
      },
      files: ['app.ts'],
    };
    await writeFile(join(consumer, 'tsconfig.json'), JSON.stringify(config));
    const result = await run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(consumer, 'tsconfig.json')], { cwd: consumer }).then(
      () => 'ok',
      (e: { stdout?: string }) => e.stdout ?? 'failed',
    );
    expect(result).toBe('ok');
  }, 60_000);
});
