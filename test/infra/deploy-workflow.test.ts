// Reads .github/workflows/deploy.yml (and azure.yaml) with a YAML parser and checks the trust boundary of the
// deploy: npm (install scripts, tests, the compiler) runs only in a job that cannot get an Azure token; the job that
// holds the OIDC permission runs no npm, directly or through azd hooks; every action is pinned to a full commit SHA
// with its release in a comment; every template parameter can be set as a repository variable.
// The parser is js-yaml 4 (a devDependency), whose load() is safe by default.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { REPO_ROOT } from './bicep-tree.js';

const jsYaml = createRequire(import.meta.url)('js-yaml') as { load: (s: string) => unknown };
const parseYaml = (text: string): unknown => jsYaml.load(text);
const read = (p: string) => readFileSync(path.join(REPO_ROOT, p), 'utf8');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
}
interface Job {
  needs?: string | string[];
  permissions?: Record<string, string> | string;
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  jobs: Record<string, Job>;
}

const WORKFLOW_TEXT = read('.github/workflows/deploy.yml');
const workflow = parseYaml(WORKFLOW_TEXT) as Workflow;

/** What a job may do with the OIDC token: its own permissions, else the workflow's (GitHub's rule). */
function idToken(wf: Workflow, job: Job): string | undefined {
  const perms = job.permissions ?? wf.permissions;
  if (perms === 'write-all') return 'write';
  return typeof perms === 'object' ? perms['id-token'] : undefined;
}
const NPM = /(^|[\s;&|(`$])(npm|npx|pnpm|yarn|corepack)(\s|$)/m;
/** azd commands that package the service (and so run its prepackage hook, npm ci && npm run build). */
const AZD_PACKAGES = /\bazd\s+(up|package|deploy)\b(?![^\n]*--from-package)/;

/** Everything that is wrong with a workflow's split between building and deploying (empty: it holds). */
function boundaryProblems(wf: Workflow): string[] {
  const problems: string[] = [];
  const jobs = Object.entries(wf.jobs);
  const withToken = jobs.filter(([, j]) => idToken(wf, j) === 'write');
  if (withToken.length === 0) problems.push('no job can log in to Azure (id-token: write)');
  for (const [name, job] of jobs) {
    const runs = job.steps.map((s) => s.run ?? '').join('\n');
    const usesNode = job.steps.some((s) => s.uses?.startsWith('actions/setup-node@'));
    if (idToken(wf, job) === 'write') {
      if (NPM.test(runs)) problems.push(`job ${name} has id-token: write and runs npm`);
      if (AZD_PACKAGES.test(runs)) problems.push(`job ${name} has id-token: write and runs azd up/package/deploy (its prepackage hook runs npm)`);
      if (usesNode) problems.push(`job ${name} has id-token: write and sets up Node for npm`);
    } else if (NPM.test(runs) && job.steps.some((s) => /azure\/login@/i.test(s.uses ?? ''))) {
      problems.push(`job ${name} runs npm and azure/login`);
    }
  }
  const npmJobs = jobs.filter(([, j]) => NPM.test(j.steps.map((s) => s.run ?? '').join('\n')));
  for (const [name] of withToken) {
    const needs = [wf.jobs[name]!.needs ?? []].flat();
    for (const [npmJob] of npmJobs) if (!needs.includes(npmJob)) problems.push(`job ${name} does not wait for (needs) ${npmJob}, the job that tests`);
  }
  return problems;
}

describe('.github/workflows/deploy.yml', () => {
  test('runs only when started by hand', () => {
    expect(Object.keys(workflow.on)).toEqual(['workflow_dispatch']);
  });

  test('tests and builds in a job without id-token, and deploys from a job that runs no npm', () => {
    expect(boundaryProblems(workflow)).toEqual([]);
    const build = workflow.jobs['build']!;
    expect(idToken(workflow, build)).toBeUndefined();
    expect(build.steps.map((s) => s.run).filter(Boolean)).toEqual(expect.arrayContaining(['npm ci', 'npm test', 'npm run build']));
    const deploy = workflow.jobs['deploy']!;
    expect(idToken(workflow, deploy)).toBe('write');
    expect(deploy.needs).toBe('build');
  });

  test.each([
    ['id-token for the whole workflow', (w: Workflow) => { w.permissions = { 'id-token': 'write', contents: 'read' }; delete w.jobs['build']!.permissions; }, 'job build has id-token: write and runs npm'],
    ['write-all permissions', (w: Workflow) => { w.permissions = 'write-all'; delete w.jobs['build']!.permissions; }, 'job build has id-token: write and runs npm'],
    ['npm in the deploy job', (w: Workflow) => w.jobs['deploy']!.steps.push({ run: 'npm ci --omit=dev' }), 'job deploy has id-token: write and runs npm'],
    ['npx in the deploy job', (w: Workflow) => w.jobs['deploy']!.steps.push({ run: 'echo x && npx some-tool' }), 'job deploy has id-token: write and runs npm'],
    ['azd deploy (packages, so runs the prepackage hook)', (w: Workflow) => w.jobs['deploy']!.steps.push({ run: 'azd deploy api --no-prompt' }), 'runs azd up/package/deploy'],
    ['azd up', (w: Workflow) => w.jobs['deploy']!.steps.push({ run: 'azd up --no-prompt' }), 'runs azd up/package/deploy'],
    ['deploy not waiting for the tests', (w: Workflow) => delete w.jobs['deploy']!.needs, 'does not wait for (needs) build'],
  ])('the check fails with %s', (_what, change, message) => {
    const bad = structuredClone(workflow);
    change(bad);
    expect(boundaryProblems(bad)).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
  });

  test('azd deploy --from-package would be allowed (it does not package)', () => {
    const ok = structuredClone(workflow);
    ok.jobs['deploy']!.steps.push({ run: 'azd deploy api --from-package package/app.zip --no-prompt' });
    expect(boundaryProblems(ok)).toEqual([]);
  });

  test('deploys the package the build job made, from the build job\'s artifact', () => {
    const build = workflow.jobs['build']!;
    const deploy = workflow.jobs['deploy']!;
    const upload = build.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    const download = deploy.steps.find((s) => s.uses?.startsWith('actions/download-artifact@'));
    expect(upload?.with?.['name']).toBe(download?.with?.['name']);
    expect(build.steps.map((s) => s.run ?? '').join('\n')).toContain('node infra/scripts/package-files.mjs | zip');
    expect(deploy.steps.map((s) => s.run ?? '').join('\n')).toMatch(/az functionapp deployment source config-zip[\s\S]*--src package\/app\.zip/);
  });

  test('logs in with OIDC only (ids, no client secret)', () => {
    const login = workflow.jobs['deploy']!.steps.find((s) => s.uses?.startsWith('azure/login@'))!;
    expect(Object.keys(login.with ?? {}).sort()).toEqual(['client-id', 'subscription-id', 'tenant-id']);
    expect(WORKFLOW_TEXT).not.toMatch(/client-secret|creds:|AZURE_CREDENTIALS/);
    // The one repository secret is the alert webhook URL, a template parameter, never an Azure credential.
    expect([...WORKFLOW_TEXT.matchAll(/secrets\.(\w+)/g)].map((m) => m[1])).toEqual(['ALERT_WEBHOOK_URL']);
  });

  test('checkouts keep no git credentials on disk', () => {
    for (const job of Object.values(workflow.jobs)) {
      for (const s of job.steps.filter((x) => x.uses?.startsWith('actions/checkout@'))) expect(s.with?.['persist-credentials']).toBe(false);
    }
  });
});

describe('actions are pinned by full commit SHA, with the release in a comment', () => {
  const PINNED = /^\s*(?:-\s+)?uses:\s+([\w.-]+\/[\w.-]+)@([0-9a-f]{40})\s+#\s+(v\d+\.\d+\.\d+)\s*$/;
  const usesLines = (text: string) => text.split('\n').filter((l) => /^\s*(?:-\s+)?uses:/.test(l));

  test('every uses: line', () => {
    const lines = usesLines(WORKFLOW_TEXT);
    expect(lines.length).toBeGreaterThanOrEqual(6);
    expect(lines.filter((l) => !PINNED.test(l))).toEqual([]);
    const used = lines.map((l) => PINNED.exec(l)![1]!.toLowerCase());
    expect(new Set(used)).toEqual(new Set(['actions/checkout', 'actions/setup-node', 'actions/upload-artifact', 'actions/download-artifact', 'azure/login', 'azure/setup-azd']));
  });

  test.each([
    ['a tag', '      - uses: actions/checkout@v4'],
    ['a short SHA', '      - uses: actions/checkout@3d3c42e # v7.0.1'],
    ['a SHA without the release comment', '      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1'],
    ['a branch', '        uses: azure/login@main'],
  ])('the check fails on %s', (_what, line) => {
    expect(usesLines(line).filter((l) => !PINNED.test(l))).toEqual([line]);
  });

  test('the parsed steps agree with the lines (no uses: hidden from the line check)', () => {
    const parsed = Object.values(workflow.jobs).flatMap((j) => j.steps.map((s) => s.uses).filter(Boolean));
    expect(parsed).toHaveLength(usesLines(WORKFLOW_TEXT).length);
    for (const u of parsed) expect(u).toMatch(/@[0-9a-f]{40}$/);
  });
});

describe('every template parameter can be set as a repository variable', () => {
  const parameters = read('infra/main.parameters.json');
  const variables = [...parameters.matchAll(/\$\{([A-Z][A-Z0-9_]*)(?:=[^}]*)?\}/g)].map((m) => m[1]!).filter((n) => !n.startsWith('AZURE_'));
  const configure = workflow.jobs['deploy']!.steps.find((s) => s.name === 'Configure the azd environment')!;
  const loop = /for name in ([\s\S]*?); do/.exec(configure.run ?? '')?.[1]?.split(/[\s\\]+/).filter(Boolean) ?? [];

  test('including the ones the issue found missing and the new ones', () => {
    expect(variables).toEqual(
      expect.arrayContaining(['KEY_VAULT_READER_PRINCIPAL_TYPE', 'KEY_VAULT_ADMIN_PRINCIPAL_TYPE', 'MAXIMUM_INSTANCE_COUNT', 'INSTANCE_MEMORY_MB', 'EXISTING_TOKEN_VAULT_NAME', 'AUTH_CLIENT_ID', 'ENABLE_EASY_AUTH', 'TOKEN_SECRETS_CREATED']),
    );
  });

  // A @secure() parameter (the alert webhook URL) comes from a repository secret, never a variable (variables are
  // readable by anyone who can read the repository settings, and are printed in logs).
  const mapping = JSON.parse(parameters).parameters as Record<string, { value: string }>;
  const secureParams = [...read('infra/main.bicep').matchAll(/@secure\(\)\s*\nparam (\w+)/g)].map((m) => m[1]!);
  const secureVariables = secureParams.map((p) => /\$\{([A-Z][A-Z0-9_]*)/.exec(mapping[p]?.value ?? '')?.[1]).filter((v): v is string => v !== undefined);

  test('each is read from vars (a @secure() one from secrets) and written into the azd environment', () => {
    expect(secureVariables).toEqual(['ALERT_WEBHOOK_URL']);
    expect(variables.filter((name) => !secureVariables.includes(name) && configure.env?.[name] !== `\${{ vars.${name} }}`)).toEqual([]);
    expect(secureVariables.filter((name) => configure.env?.[name] !== `\${{ secrets.${name} }}`)).toEqual([]);
    expect(variables.filter((name) => !loop.includes(name))).toEqual([]);
  });

  test('the azd settings the workflow sets itself come from vars too', () => {
    const env = workflow.jobs['deploy']!.env ?? {};
    for (const name of ['AZURE_ENV_NAME', 'AZURE_LOCATION', 'AZURE_SUBSCRIPTION_ID', 'AZURE_RESOURCE_GROUP']) expect(env[name]).toBe(`\${{ vars.${name} }}`);
  });
});

describe('azure.yaml', () => {
  const azure = parseYaml(read('azure.yaml')) as { hooks?: Record<string, unknown>; services: Record<string, { hooks?: Record<string, unknown> }> };

  test('has no project hooks, so azd provision and env commands run no npm', () => {
    expect(azure.hooks).toBeUndefined();
  });

  test('its only service hook is prepackage (run by azd package/deploy/up, never in the deploy job)', () => {
    for (const service of Object.values(azure.services)) expect(Object.keys(service.hooks ?? {})).toEqual(['prepackage']);
  });
});
