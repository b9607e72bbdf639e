// The manual and CI deploy package: infra/scripts/package-files.mjs lists what .funcignore keeps (gitignore syntax),
// run as the real CLI against this repository and against scratch projects, and the list zips with `zip -@`.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { REPO_ROOT } from './bicep-tree.js';

const SCRIPT = path.join(REPO_ROOT, 'infra/scripts/package-files.mjs');
const list = (root: string) => spawnSync(process.execPath, [SCRIPT, root], { encoding: 'utf8' });

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));
function project(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'package-files-'));
  scratch.push(root);
  for (const [name, text] of Object.entries({ 'host.json': '{}', 'package.json': '{}', ...files })) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
  return root;
}

describe('this repository', () => {
  const run = list(REPO_ROOT);
  const files = run.stdout.split('\n').filter(Boolean);

  test('keeps what a remote build needs to install and compile', () => {
    expect(run.status).toBe(0);
    expect(files).toEqual(expect.arrayContaining(['host.json', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'functions/token.ts', 'shared/config/config.ts']));
  });

  test('leaves out tests, infrastructure, CI, node_modules and local settings', () => {
    const unwanted = files.filter((f) => /^(test|infra|node_modules|\.github|\.ci|\.git|\.azure|coverage)\//.test(f) || ['azure.yaml', 'README.md', 'jest.config.js', 'local.settings.json', '.gitignore'].includes(f));
    expect(unwanted).toEqual([]);
  });
});

describe('.funcignore rules (gitignore syntax)', () => {
  test('names match at any depth; a slash anchors; a trailing slash means folders only; ! re-includes; later lines win', () => {
    const root = project({
      '.funcignore': ['# comment', '', 'docs', '/top.txt', 'logs/', '*.map', '!keep.map', 'src/**/gen/'].join('\n'),
      'docs/a.md': '', 'src/docs/b.md': '', 'top.txt': '', 'src/top.txt': '', 'logs/x.log': '', 'src/logs': 'a file named logs',
      'a.js.map': '', 'keep.map': '', 'src/x/y/gen/z.ts': '', 'src/x/y/z.ts': '',
    });
    const run = list(root);
    expect(run.status).toBe(0);
    expect(run.stdout.split('\n').filter(Boolean).sort()).toEqual(['.funcignore', 'host.json', 'keep.map', 'package.json', 'src/logs', 'src/top.txt', 'src/x/y/z.ts']);
  });

  test('refuses to package a private key or local secrets that .funcignore does not exclude', () => {
    const root = project({ '.funcignore': 'node_modules\n', 'maskinporten-key.private.jwk.json': '{}', 'certs/client.pem': '' });
    const run = list(root);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/refusing to package certs\/client\.pem, maskinporten-key\.private\.jwk\.json/);
  });

  test('a key file that .funcignore excludes is fine', () => {
    const root = project({ '.funcignore': '*.private.jwk.*\n', 'maskinporten-key.private.jwk.json': '{}' });
    expect(list(root).status).toBe(0);
  });

  test('refuses a root without host.json (run from the project root)', () => {
    const root = project({});
    rmSync(path.join(root, 'host.json'));
    expect(list(root)).toMatchObject({ status: 1, stderr: expect.stringContaining('host.json is not in the package') });
  });
});

describe('the list zips', () => {
  const zip = spawnSync('zip', ['-v'], { encoding: 'utf8' });
  (zip.status === 0 ? test : test.skip)('node infra/scripts/package-files.mjs | zip -q -X app.zip -@ packs exactly the listed files', () => {
    const root = project({ '.funcignore': 'test\n', 'dist/functions/token.js': 'x', 'test/a.test.ts': 'x' });
    const out = path.join(root, 'app.zip');
    const listed = execFileSync(process.execPath, [SCRIPT, '.'], { cwd: root, encoding: 'utf8' });
    execFileSync('zip', ['-q', '-X', out, '-@'], { cwd: root, input: listed });
    const names = execFileSync('unzip', ['-Z1', out], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    expect(names).toEqual(['.funcignore', 'dist/functions/token.js', 'host.json', 'package.json']);
  });
});
