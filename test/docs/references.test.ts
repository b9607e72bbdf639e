// The project documents itself: no tracked file may point at documents a user of the repository does not have
// (the team's notes one level above the project), and every relative path a comment or Markdown link names exists.
import { describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: REPO, encoding: 'utf8' })
  .split('\0')
  .filter((f) => f && /\.(ts|js|cjs|mjs|md|json|bicep|yml|yaml)$|^\.ci\/|^\.funcignore$|^\.gitignore$/.test(f) && f !== 'package-lock.json')
  .filter((f) => existsSync(join(REPO, f)));
const text = (f: string) => readFileSync(join(REPO, f), 'utf8');

/** Where a relative reference from `file` lands, relative to the repository root ('..' first when outside it). */
function resolveFrom(file: string, ref: string): string {
  return relative(REPO, normalize(join(REPO, dirname(file), ref)));
}

function exists(path: string): boolean {
  if (path.startsWith('..')) return false;
  return existsSync(join(REPO, path)) || existsSync(join(REPO, path.replace(/\.js$/, '.ts')));
}

describe('references in tracked files', () => {
  test('no file names the team notes outside the project (protocol, Azure notes, style guide)', () => {
    const outside = new RegExp(['azure-', 'notes\\.md', '|', 'style\\.md', '|', '(?<!docs/)', 'protocol\\.md'].join(''));
    const hits = tracked.flatMap((f) =>
      text(f)
        .split('\n')
        .map((line, i) => [line, i] as const)
        .filter(([line]) => outside.test(line))
        .map(([line, i]) => `${f}:${i + 1}: ${line.trim()}`),
    );
    expect(hits).toEqual([]);
  });

  test('every ../shared/... path resolves to a file of this repository', () => {
    const bad: string[] = [];
    for (const f of tracked) {
      for (const m of text(f).matchAll(/(?:\.\.\/)+shared\/[\w./-]*[\w]/g)) {
        const target = resolveFrom(f, m[0]);
        if (!exists(target)) bad.push(`${f}: ${m[0]} -> ${target}`);
      }
    }
    expect(bad).toEqual([]);
  });

  test('every relative Markdown link resolves', () => {
    const bad: string[] = [];
    for (const f of tracked.filter((t) => t.endsWith('.md'))) {
      for (const m of text(f).matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
        const ref = m[1]!;
        if (/^[a-z]+:/i.test(ref)) continue;
        if (!exists(resolveFrom(f, ref))) bad.push(`${f}: ${ref}`);
      }
    }
    expect(bad).toEqual([]);
  });

  test('docs/protocol.md is there and covers what the code points to', () => {
    const doc = text('docs/protocol.md');
    for (const heading of ['The JWT grant', 'The token request', 'Retries', 'The Altinn token exchange', 'Environments', 'Key formats', 'Caching']) {
      expect(doc).toMatch(new RegExp(`^## \\d+\\. ${heading}`, 'm'));
    }
  });
});
