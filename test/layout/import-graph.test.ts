// The layout is the design (README, "Design"): the import graph of functions/, shared/ and client/ has no circle
// between files or between areas, every arrow between areas points down the layers below, at most 8 files sit
// directly in shared/, and at most one file is over 400 lines (saying why at its top). Reads every static import,
// `export ... from`, `import type` and dynamic `import()` with TypeScript's own pre-processor.
import { describe, expect, test } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const SOURCE_DIRS = ['functions', 'shared', 'client'];

/** The areas from the bottom up: a file may import its own area and the areas listed for it, nothing else. */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  'shared/errors.ts': [],
  'shared/logging.ts': [],
  'shared/config': ['shared/errors.ts'],
  'shared/telemetry': ['shared/logging.ts'],
  'shared/upstream': ['shared/errors.ts', 'shared/telemetry'],
  'shared/vault': ['shared/errors.ts', 'shared/logging.ts', 'shared/telemetry'],
  'shared/keys': ['shared/errors.ts', 'shared/logging.ts', 'shared/config', 'shared/telemetry', 'shared/vault'],
  'shared/verify': ['shared/errors.ts', 'shared/logging.ts', 'shared/config', 'shared/telemetry', 'shared/upstream'],
  'shared/maskinporten': ['shared/errors.ts', 'shared/logging.ts', 'shared/config', 'shared/telemetry', 'shared/upstream', 'shared/keys'],
  'shared/altinn': ['shared/errors.ts', 'shared/logging.ts', 'shared/upstream'],
  'shared/callers': ['shared/errors.ts', 'shared/logging.ts', 'shared/config', 'shared/telemetry', 'shared/upstream'],
  'shared/broker': [
    'shared/errors.ts', 'shared/logging.ts', 'shared/config', 'shared/telemetry', 'shared/upstream', 'shared/vault',
    'shared/keys', 'shared/verify', 'shared/maskinporten', 'shared/altinn',
  ],
  'shared/http': ['shared/errors.ts', 'shared/logging.ts', 'shared/broker'],
  'shared/runtime.ts': [
    'shared/errors.ts', 'shared/logging.ts', 'shared/config', 'shared/telemetry', 'shared/upstream', 'shared/vault',
    'shared/callers', 'shared/broker',
  ],
  'shared/core.ts': ['shared/errors.ts', 'shared/config', 'shared/telemetry', 'shared/callers', 'shared/http', 'shared/runtime.ts'],
  'shared/load-core.ts': ['shared/core.ts'],
  'shared/cli': [
    'shared/errors.ts', 'shared/logging.ts', 'shared/config', 'shared/vault', 'shared/keys', 'shared/broker',
    'shared/runtime.ts', 'shared/local',
  ],
  'shared/local': ['shared/logging.ts', 'shared/runtime.ts', 'functions'],
  functions: ['shared/config', 'shared/load-core.ts'],
  client: [],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (statSync(path.join(ROOT, rel)).isDirectory()) return sourceFiles(rel);
    return rel.endsWith('.ts') ? [rel] : [];
  });
}

/** The area a file belongs to: its folder, or the file itself when it sits directly in shared/. */
export function areaOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] !== 'shared') return parts[0]!;
  return parts.length === 2 ? file : `shared/${parts[1]}`;
}

/** Every relative import of `file`, as repository paths. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(path.join(ROOT, file), 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts');
      if (!existsSync(path.join(ROOT, target))) throw new Error(`${file} imports ${spec}, which does not exist`);
      return target;
    });
}

/** The strongly connected components with more than one node (or a node that imports itself): the circles. */
export function circles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)?.has(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

const files = SOURCE_DIRS.flatMap(sourceFiles);
const fileGraph = new Map(files.map((f) => [f, new Set(importsOf(f))]));
const areaGraph = new Map<string, Set<string>>();
for (const [from, tos] of fileGraph) {
  const a = areaOf(from);
  const set = areaGraph.get(a) ?? new Set<string>();
  for (const to of tos) if (areaOf(to) !== a) set.add(areaOf(to));
  areaGraph.set(a, set);
}

describe('the import graph', () => {
  test('the circle finder finds a circle (so that the checks below can fail)', () => {
    const g = new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])], ['d', new Set(['a'])]]);
    expect(circles(g)).toEqual([['a', 'b', 'c']]);
    expect(circles(new Map([['a', new Set(['a'])]]))).toEqual([['a']]);
    expect(circles(new Map([['a', new Set(['b'])], ['b', new Set<string>()]]))).toEqual([]);
  });

  test('it reads the sources it is meant to read', () => {
    expect(files).toEqual(expect.arrayContaining(['functions/token.ts', 'shared/runtime.ts', 'shared/broker/profile-broker.ts', 'client/index.ts']));
    expect(fileGraph.get('shared/core.ts')?.size).toBeGreaterThan(3);
  });

  test('has no circle between files', () => {
    expect(circles(fileGraph)).toEqual([]);
  });

  test('has no circle between areas', () => {
    expect(circles(areaGraph)).toEqual([]);
  });

  test('every area is in the layer table, and imports only the areas it may', () => {
    const unknown = [...areaGraph.keys()].filter((a) => !(a in MAY_IMPORT));
    expect(unknown).toEqual([]);
    const wrong: string[] = [];
    for (const [from, tos] of fileGraph) {
      for (const to of tos) {
        const [a, b] = [areaOf(from), areaOf(to)];
        if (a !== b && !MAY_IMPORT[a]!.includes(b)) wrong.push(`${from} -> ${to}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('the rooms', () => {
  test('at most 8 files sit directly in shared/', () => {
    expect(files.filter((f) => f.split('/').length === 2 && f.startsWith('shared/')).length).toBeLessThanOrEqual(8);
  });

  test('at most one file is over 400 lines, and it says why at its top', () => {
    const long = files.filter((f) => readFileSync(path.join(ROOT, f), 'utf8').split('\n').length > 400);
    expect(long.length).toBeLessThanOrEqual(1);
    for (const f of long) expect(readFileSync(path.join(ROOT, f), 'utf8').split('\n').slice(0, 12).join('\n')).toMatch(/400 lines/);
  });
});
