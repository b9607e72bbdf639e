// The alerts module (infra/modules/alerts.bicep), evaluated with sample parameters and checked against Azure's type
// definitions: which receivers and rules a deployment gets, that the thresholds reach the queries, that each rule's
// measure and dimension columns are what its query returns, and that every property path exists in the resource
// type (the closest thing to the Bicep compiler that runs here).
import { beforeAll, describe, expect, test } from '@jest/globals';
import { type Value, entryFile, entryScope, evaluate, scopeFor } from './bicep-eval.js';
import { type BicepFile, declarations, loadBicepFiles, parseBicep } from './bicep-tree.js';
import { TELEMETRY_CONTRACT, kqlContractProblems } from './bicep-policy.js';
import { checkResource, knownTypes } from './azure-types.js';

const REQUIRED: Record<string, Value> = { environmentName: 'dev', maskinportenClientId: 'client', maskinportenScopes: 'altinn:serviceowner' };
const ALERTS = 'infra/modules/alerts.bicep';

let files: BicepFile[];
beforeAll(async () => {
  files = await loadBicepFiles('infra');
});

function scope(params: Record<string, Value>) {
  const file = files.find((f) => f.path === ALERTS)!;
  return { file, scope: scopeFor(file, entryScope(files, entryFile(files), { ...REQUIRED, ...params })) };
}
function variable(name: string, params: Record<string, Value> = {}): Value {
  const { file, scope: s } = scope(params);
  return evaluate(declarations(file).vars.get(name)!.value, s);
}
type Rule = { name: string; windowSize: string; evaluationFrequency: string; severity: number; criterion: Record<string, Value> };
const rules = (params: Record<string, Value> = {}) => variable('rules', params) as unknown as Rule[];

describe('the action group', () => {
  test('e-mail addresses separated by commas or spaces, each once, each a receiver with the common schema', () => {
    const receivers = variable('emailReceivers', { alertEmailAddresses: 'ops@example.no, oncall@example.no ops@example.no' });
    expect(receivers).toEqual([
      { name: 'email-0', emailAddress: 'ops@example.no', useCommonAlertSchema: true },
      { name: 'email-1', emailAddress: 'oncall@example.no', useCommonAlertSchema: true },
    ]);
  });
  test('no e-mail and no webhook: no action group (the rules still exist and show in Azure Monitor)', () => {
    expect(variable('notify')).toBe(false);
    expect(variable('webhookReceivers')).toEqual([]);
    expect(rules()).toHaveLength(5);
  });
  test('a webhook alone makes the group, with one webhook receiver', () => {
    expect(variable('notify', { alertWebhookUrl: 'https://hooks.example/x' })).toBe(true);
    expect(variable('webhookReceivers', { alertWebhookUrl: 'https://hooks.example/x' })).toEqual([{ name: 'webhook', serviceUri: 'https://hooks.example/x', useCommonAlertSchema: true }]);
  });
  test('enableAlerts=false deploys neither the module nor its identity', () => {
    const main = entryFile(files);
    const call = declarations(main).modules.find((m) => m.symbol === 'alerts')!;
    expect(call.conditional).toBe(true);
    expect(declarations(main).resources.find((r) => r.symbol === 'alertIdentity')!.conditional).toBe(true);
  });
});

describe('the rules', () => {
  test('five rules, each query over the broker\'s own metric names and attributes', () => {
    const all = rules();
    expect(all.map((r) => r.name)).toEqual(['refresh-failing', 'token-expiring', 'key-aging', 'upstream-errors', 'timer-silent']);
    for (const r of all) {
      expect(kqlContractProblems(String(r.criterion.query))).toEqual([]);
      expect(String(r.criterion.query)).not.toMatch(/\{[A-Z_]+\}/); // every placeholder replaced
    }
    expect(Object.keys(TELEMETRY_CONTRACT)).toEqual(expect.arrayContaining(['broker.refresh', 'broker.token.time_to_expiry', 'broker.key.expires_in', 'broker.key.age', 'http.client.request.duration']));
  });

  test('each rule\'s measure and dimension columns are produced by its query', () => {
    for (const r of rules()) {
      const q = String(r.criterion.query);
      const last = q.trim().split('\n').at(-1)!; // the final summarize or project names the output columns
      if (r.criterion.metricMeasureColumn !== undefined) expect({ rule: r.name, has: last.includes(`${String(r.criterion.metricMeasureColumn)} =`) }).toEqual({ rule: r.name, has: true });
      for (const d of (r.criterion.dimensions as Array<{ name: string }>)) expect({ rule: r.name, has: new RegExp(`\\b${d.name}\\b`).test(last) }).toEqual({ rule: r.name, has: true });
      expect(['Count', 'Total', 'Maximum']).toContain(r.criterion.timeAggregation);
      if (r.criterion.timeAggregation !== 'Count') expect(r.criterion.metricMeasureColumn).toBeDefined();
    }
  });

  test('the thresholds from the parameters reach the criteria and the queries', () => {
    const byName = (params: Record<string, Value>) => Object.fromEntries(rules(params).map((r) => [r.name, r]));
    const defaults = byName({});
    expect(String(defaults['key-aging']!.criterion.query)).toMatch(/expiresInDays < 30 or ageDays > 365/);
    expect(defaults['upstream-errors']!.criterion.threshold).toBe(5);
    expect(defaults['timer-silent']!.windowSize).toBe('PT30M');
    const custom = byName({ alertKeyExpiryDays: 45, alertKeyMaxAgeDays: 200, alertUpstreamErrorThreshold: 12, alertTimerSilenceWindow: 'PT2H' });
    expect(String(custom['key-aging']!.criterion.query)).toMatch(/expiresInDays < 45 or ageDays > 200/);
    expect(custom['upstream-errors']!.criterion.threshold).toBe(12);
    expect(custom['timer-silent']!.windowSize).toBe('PT2H');
  });

  test('two timer runs in a row: the refresh rule fires at 2 failed runs since the last good one', () => {
    const r = rules().find((x) => x.name === 'refresh-failing')!;
    expect(r.criterion).toMatchObject({ metricMeasureColumn: 'failedRuns', operator: 'GreaterThanOrEqual', threshold: 2 });
    const q = String(r.criterion.query);
    expect(q).toMatch(/trigger == 'timer'/);
    expect(q).toMatch(/timestamp > lastGood/);
  });

  test('5 minutes before expiry, from the time of the reading plus the seconds it reported', () => {
    const q = String(rules().find((x) => x.name === 'token-expiring')!.criterion.query);
    expect(q).toMatch(/expiresAt < now\(\) \+ 5m/);
    expect(q).toMatch(/timestamp \+ value \* 1s/);
  });

  test('the window covers the evaluation frequency, and only ISO 8601 durations are used', () => {
    const minutes = (d: string) => {
      const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(d);
      expect(m).not.toBeNull();
      return Number(m![1] ?? 0) * 1440 + Number(m![2] ?? 0) * 60 + Number(m![3] ?? 0);
    };
    for (const r of rules()) expect(minutes(r.windowSize)).toBeGreaterThanOrEqual(minutes(r.evaluationFrequency));
  });
});

describe('every resource type, API version and property path exists in Azure\'s type definitions', () => {
  test('the alerts module and the monitoring module', () => {
    const checked: string[] = [];
    for (const path of [ALERTS, 'infra/modules/monitoring.bicep']) {
      const file = files.find((f) => f.path === path)!;
      const s = scopeFor(file, entryScope(files, entryFile(files), { ...REQUIRED, alertEmailAddresses: 'ops@example.no', alertWebhookUrl: 'https://hooks.example/x' }));
      for (const r of declarations(file).resources) {
        const result = checkResource(file, r, s);
        expect(result.problems).toEqual([]);
        checked.push(...result.checked.map((p) => `${r.symbol}.${p}`));
      }
    }
    // The evaluated values were walked too: each rule's criterion, the receivers built in variables.
    expect(checked).toEqual(expect.arrayContaining([
      'alertRules.properties.criteria.allOf[].query',
      'alertRules.properties.criteria.allOf[].dimensions[0].name',
      'alertRules.properties.criteria.allOf[].failingPeriods.minFailingPeriodsToAlert',
      'alertRules.identity.userAssignedIdentities',
      'actionGroup.properties.emailReceivers[0].useCommonAlertSchema',
      'actionGroup.properties.webhookReceivers[0].serviceUri',
      'workspaceReader.properties.roleDefinitionId',
      'applicationInsights.properties.DisableLocalAuth',
    ]));
  });

  test('the alert rules\' identity in main.bicep', () => {
    const main = entryFile(files);
    const r = declarations(main).resources.find((x) => x.symbol === 'alertIdentity')!;
    expect(checkResource(main, r, entryScope(files, main, REQUIRED)).problems).toEqual([]);
  });

  test('the checker catches a misspelt property, a read-only one, a wrong API version and a bad key inside a variable', async () => {
    expect(knownTypes()).toEqual(expect.arrayContaining(['microsoft.insights/scheduledqueryrules@2023-12-01']));
    const file = await parseBicep(`
var criterion = {
  query: 'x'
  treshold: 1
}
resource a 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'a'
  location: 'x'
  properties: {
    severity: 1
    evaluationFrequncy: 'PT5M'
    isLegacyLogAnalyticsRule: false
    criteria: {
      allOf: [
        criterion
      ]
    }
  }
}
resource b 'Microsoft.Insights/scheduledQueryRules@2099-01-01' = {
  name: 'b'
  location: 'x'
}
`);
    const s = entryScope([file], file, {});
    const [a, b] = declarations(file).resources;
    const problems = checkResource(file, a!, s).problems.join('\n');
    expect(problems).toMatch(/properties\.evaluationFrequncy is not a property/);
    expect(problems).toMatch(/properties\.isLegacyLogAnalyticsRule is read-only/);
    expect(problems).toMatch(/properties\.criteria\.allOf\[\]\.treshold is not a property/);
    expect(checkResource(file, b!, s).problems.join('\n')).toMatch(/2099-01-01 is not in the type definitions/);
  });
});

