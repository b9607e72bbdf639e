// Checks that the azd wiring agrees with the Bicep: main.parameters.json maps real parameters (and every required
// one), azure.yaml's service matches the site's azd-service-name tag, and the deploy workflow is manual, OIDC-based
// and passes the required settings; infra/README.md documents every parameter and output. YAML is read line by line.
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

describe('.github/workflows/deploy.yml', () => {
  const workflow = read('.github/workflows/deploy.yml');
  const on = workflow.slice(workflow.indexOf('\non:'), workflow.indexOf('\npermissions:'));

  test('runs only when started by hand', () => {
    expect(on).toContain('workflow_dispatch:');
    expect(on).not.toMatch(/^\s{2}(push|pull_request|schedule|workflow_run):/m);
  });

  test('logs in with OIDC (id-token: write, azure/login with ids only, no client secret)', () => {
    expect(workflow).toMatch(/^ {2}id-token: write/m);
    expect(workflow).toMatch(/uses: azure\/login@v2\n\s+with:\n\s+client-id: .*\n\s+tenant-id: .*\n\s+subscription-id: /);
    expect(workflow).not.toMatch(/client-secret|creds:|AZURE_CREDENTIALS|secrets\./);
  });

  test('installs, tests and builds before it provisions and deploys', () => {
    const steps = workflow.slice(workflow.indexOf('\n    steps:'));
    const order = ['run: npm ci', 'run: npm test', 'run: npm run build', 'uses: azure/login', 'azd provision --no-prompt', 'azd deploy api --no-prompt'].map((s) => steps.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  test('passes every parameter variable that main.parameters.json needs without a default', () => {
    const parameters = read('infra/main.parameters.json');
    const needed = [...parameters.matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)].map((m) => m[1]!);
    expect(needed).toEqual(expect.arrayContaining(['MASKINPORTEN_CLIENT_ID', 'MASKINPORTEN_SCOPES']));
    const loop = /for name in ([\s\S]*?); do/.exec(workflow)?.[1]?.split(/[\s\\]+/).filter(Boolean) ?? [];
    for (const name of needed) {
      expect({ name, set: workflow.includes(`${name}: \${{ vars.${name} }}`) }).toEqual({ name, set: true });
      if (!name.startsWith('AZURE_')) expect({ name, written: loop.includes(name) }).toEqual({ name, written: true });
    }
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
