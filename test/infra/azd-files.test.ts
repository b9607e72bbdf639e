// Checks that the azd wiring agrees with the Bicep: main.parameters.json maps real parameters (and every required
// one), azure.yaml's service matches the site's azd-service-name tag, and infra/README.md documents every parameter
// and output. (The deploy workflow has its own test, deploy-workflow.test.ts.) azure.yaml is read line by line here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { type BicepFile, REPO_ROOT, declarations, loadBicepFiles, objectEntries, property, resourcesOfType, stringLiteral, walk } from './bicep-tree.js';

const read = (p: string) => readFileSync(path.join(REPO_ROOT, p), 'utf8');

let files: BicepFile[];
let main: BicepFile;
beforeAll(async () => {
  files = await loadBicepFiles('infra');
  main = files.find((f) => f.path === 'infra/main.bicep')!;
});

describe('infra/main.parameters.json', () => {
  const parameters = JSON.parse(read('infra/main.parameters.json')).parameters as Record<string, { value: unknown }>;
  const reference = (v: unknown) => /^\$\{([A-Z][A-Z0-9_]*)(?:=([^}]*))?\}$/.exec(String(v));

  test('maps only parameters that main.bicep declares, each from one ${VAR} or ${VAR=default}', () => {
    const params = declarations(main).params;
    for (const [name, { value }] of Object.entries(parameters)) {
      expect({ name, declared: params.has(name) }).toEqual({ name, declared: true });
      expect({ name, reference: reference(value) !== null }).toEqual({ name, reference: true });
    }
  });

  test('maps every main.bicep parameter without a default', () => {
    const required = [...declarations(main).params.values()].filter((p) => !p.defaultValue).map((p) => p.name);
    expect(required).toEqual(expect.arrayContaining(['environmentName', 'maskinportenClientId', 'maskinportenScopes']));
    expect(required.filter((name) => !(name in parameters))).toEqual([]);
  });

  test('takes the azd environment name and location', () => {
    expect(parameters['environmentName']!.value).toBe('${AZURE_ENV_NAME}');
    expect(parameters['location']!.value).toBe('${AZURE_LOCATION}');
  });

  test('inline defaults are values the parameter allows', () => {
    const params = declarations(main).params;
    for (const [name, { value }] of Object.entries(parameters)) {
      const fallback = reference(value)?.[2];
      if (fallback === undefined) continue;
      const allowed = params.get(name)!.decorators.find((d) => d.text.startsWith('@allowed'));
      const type = params.get(name)!.type;
      if (allowed) expect([...walk(allowed)].filter((n) => n.type === 'string' || n.type === 'number').map((n) => stringLiteral(n) ?? n.text)).toContain(fallback);
      if (type === 'bool') expect(['true', 'false']).toContain(fallback);
      if (type === 'int') expect(fallback).toMatch(/^\d+$/);
    }
  });
});

describe('azure.yaml', () => {
  const yaml = read('azure.yaml');
  const lines = yaml.split('\n').map((l) => l.replace(/\s+#.*$/, ''));

  test('deploys service "api" as a js Function App from the repository root', () => {
    const start = lines.findIndex((l) => /^ {2}api:\s*$/.test(l));
    expect(start).toBeGreaterThan(0);
    const rest = lines.slice(start + 1);
    const end = rest.findIndex((l) => l !== '' && !l.startsWith('    '));
    const block = end === -1 ? rest : rest.slice(0, end);
    expect(block).toEqual(expect.arrayContaining(['    project: .', '    language: js', '    host: function']));
    expect(yaml).toMatch(/prepackage:[\s\S]*run: npm ci && npm run build/);
  });

  test('provisions infra/main.bicep with Bicep', () => {
    expect(lines).toEqual(expect.arrayContaining(['  provider: bicep', '  path: infra', '  module: main']));
  });

  test('the site carries the azd-service-name tag of that service', () => {
    const sites = files.flatMap((f) => resourcesOfType(f, 'Microsoft.Web/sites', { existing: false }));
    expect(sites).toHaveLength(1);
    const tags = property(sites[0]!.body, 'tags')!;
    const tagObjects = [...walk(tags)].filter((n) => n.type === 'object');
    const entry = tagObjects.flatMap((o) => objectEntries(o)).find((e) => e.key === 'azd-service-name');
    expect(stringLiteral(entry?.value)).toBe('api');
  });
});

describe('infra/README.md', () => {
  test('documents every parameter and output of main.bicep', () => {
    const readme = read('infra/README.md');
    const d = declarations(main);
    const names = [...d.params.keys(), ...d.outputs.map((o) => o.name)];
    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((n) => !readme.includes(`| \`${n}\` |`))).toEqual([]);
  });
});
