// The infrastructure policy, as rules over the parsed Bicep tree: each rule inspects every resource it applies
// to and reports violations plus how many things it checked (a rule that checked nothing proves nothing).
import {
  type BicepFile,
  type Node,
  type ResourceDecl,
  callArguments,
  callName,
  callersOf,
  collectAppSettings,
  declarations,
  decorator,
  lineOf,
  objectEntries,
  property,
  resolvedLiteral,
  resourceBySymbol,
  resourcesOfType,
  stringLiteral,
  walk,
} from './bicep-tree.js';
import { BicepEvalError, Opaque, type Value, entryScope, evaluate } from './bicep-eval.js';

export interface Violation {
  readonly rule: string;
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export interface RuleResult {
  readonly violations: Violation[];
  /** How many resources/settings/declarations the rule looked at. */
  readonly checked: number;
}

export interface Rule {
  readonly id: string;
  readonly description: string;
  check(files: readonly BicepFile[]): RuleResult;
}

/** Built-in role ids (Azure's built-in role definitions), and the only resource types each may be scoped to. */
export const DOCUMENTED_ROLES: Readonly<Record<string, { name: string; scopeTypes: readonly string[] }>> = Object.freeze({
  '4633458b-17de-408a-b874-0445c86b69e6': { name: 'Key Vault Secrets User', scopeTypes: ['Microsoft.KeyVault/vaults', 'Microsoft.KeyVault/vaults/secrets'] },
  'b86a8fe4-44ce-4948-aee5-eccb2c155cd7': { name: 'Key Vault Secrets Officer', scopeTypes: ['Microsoft.KeyVault/vaults'] },
  '12338af0-0e69-4776-bea7-57ae8d297424': { name: 'Key Vault Crypto User', scopeTypes: ['Microsoft.KeyVault/vaults'] },
  '21090545-7ca7-4776-b22c-e363652d74d2': { name: 'Key Vault Reader', scopeTypes: ['Microsoft.KeyVault/vaults'] },
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': { name: 'Storage Blob Data Owner', scopeTypes: ['Microsoft.Storage/storageAccounts'] },
  '3913510d-42f4-4e42-8a64-420c390055eb': { name: 'Monitoring Metrics Publisher', scopeTypes: ['Microsoft.Insights/components'] },
  '73c42c96-874c-492b-b04d-ab87d138a893': { name: 'Log Analytics Reader', scopeTypes: ['Microsoft.OperationalInsights/workspaces'] },
  '43d0d8ad-25c7-4714-9337-8ba259a9fe05': { name: 'Monitoring Reader', scopeTypes: ['Microsoft.Insights/components'] },
});
const SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6';
const SECRETS_OFFICER = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7';
const CRYPTO_USER = '12338af0-0e69-4776-bea7-57ae8d297424';
const VAULT_READER = '21090545-7ca7-4776-b22c-e363652d74d2';

/** The broker's roles on the key vault for each key source (the keySource parameter of the key vault module): read the
 *  key secret, or sign with a key it cannot read, plus the certificate's public part. Never a role that writes, and
 *  for a key or certificate no role that reads secret values (a certificate's secret holds its private key). */
export const KEY_SOURCE_ROLES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  secret: [SECRETS_USER],
  'vault-key': [CRYPTO_USER],
  certificate: [CRYPTO_USER, VAULT_READER],
});

class Report {
  readonly violations: Violation[] = [];
  checked = 0;
  constructor(private readonly rule: string) {}
  add(file: BicepFile, node: Node, message: string): void {
    this.violations.push({ rule: this.rule, file: file.path, line: lineOf(node), message });
  }
  result(): RuleResult {
    return { violations: this.violations, checked: this.checked };
  }
}

function label(r: ResourceDecl): string {
  return `${r.type} '${r.symbol}'`;
}

/** Requires `properties.<path>` (or another path) of a resource to be one of the given literals (through variables). */
function expectLiteral(report: Report, file: BicepFile, r: ResourceDecl, dottedPath: string, allowed: readonly unknown[]): void {
  const node = property(r.body, dottedPath);
  const value = resolvedLiteral(file, node);
  const want = allowed.map((a) => JSON.stringify(a)).join(' or ');
  if (!node) report.add(file, r.node, `${label(r)}: ${dottedPath} is not set (must be ${want})`);
  else if (value === undefined) report.add(file, node, `${label(r)}: ${dottedPath} must be the literal ${want}, not an expression that a parameter could change (${node.text})`);
  else if (!allowed.includes(value)) report.add(file, node, `${label(r)}: ${dottedPath} is ${JSON.stringify(value)} (must be ${want})`);
}

function eachResource(files: readonly BicepFile[], type: string, report: Report, fn: (file: BicepFile, r: ResourceDecl) => void): void {
  for (const file of files) {
    for (const r of resourcesOfType(file, type, { existing: false })) {
      report.checked++;
      fn(file, r);
    }
  }
}

// ------------------------------------------------------------------ resource hardening

export const keyVaultRule: Rule = {
  id: 'key-vault-rbac-soft-delete-purge-protection',
  description: 'A Key Vault created here uses RBAC authorisation, soft delete and purge protection',
  check(files) {
    const report = new Report(this.id);
    eachResource(files, 'Microsoft.KeyVault/vaults', report, (file, r) => {
      expectLiteral(report, file, r, 'properties.enableRbacAuthorization', [true]);
      expectLiteral(report, file, r, 'properties.enableSoftDelete', [true]);
      expectLiteral(report, file, r, 'properties.enablePurgeProtection', [true]);
      if (property(r.body, 'properties.accessPolicies')) report.add(file, property(r.body, 'properties.accessPolicies')!, `${label(r)}: access policies are set; use RBAC role assignments only`);
    });
    return report.result();
  },
};

export const storageRule: Rule = {
  id: 'storage-no-shared-key-tls12',
  description: 'A storage account has shared key access off, TLS 1.2 minimum, HTTPS only and no public blob access',
  check(files) {
    const report = new Report(this.id);
    eachResource(files, 'Microsoft.Storage/storageAccounts', report, (file, r) => {
      expectLiteral(report, file, r, 'properties.allowSharedKeyAccess', [false]);
      expectLiteral(report, file, r, 'properties.minimumTlsVersion', ['TLS1_2', 'TLS1_3']);
      expectLiteral(report, file, r, 'properties.supportsHttpsTrafficOnly', [true]);
      expectLiteral(report, file, r, 'properties.allowBlobPublicAccess', [false]);
    });
    return report.result();
  },
};

export const siteRule: Rule = {
  id: 'site-https-tls12-no-basic-publishing',
  description: 'A site is HTTPS only, TLS 1.2+, sets no siteConfig.ftpsState (Flex Consumption rejects it) and has basic-auth publishing (ftp and scm) turned off',
  check(files) {
    const report = new Report(this.id);
    eachResource(files, 'Microsoft.Web/sites', report, (file, r) => {
      expectLiteral(report, file, r, 'properties.httpsOnly', [true]);
      expectLiteral(report, file, r, 'properties.siteConfig.minTlsVersion', ['1.2', '1.3']);
      const ftps = property(r.body, 'properties.siteConfig.ftpsState');
      if (ftps) report.add(file, ftps, `${label(r)}: siteConfig.ftpsState is set; Flex Consumption rejects it (ARM error 51021): turn FTP off with basicPublishingCredentialsPolicies 'ftp'`);
      if (property(r.body, 'properties.siteConfig.scmMinTlsVersion')) expectLiteral(report, file, r, 'properties.siteConfig.scmMinTlsVersion', ['1.2', '1.3']);
      const policies = resourcesOfType(file, 'Microsoft.Web/sites/basicPublishingCredentialsPolicies').filter(
        (p) => p.parent === r || property(p.body, 'parent')?.text === r.symbol,
      );
      for (const kind of ['ftp', 'scm']) {
        const policy = policies.find((p) => resolvedLiteral(file, property(p.body, 'name')) === kind);
        if (!policy) report.add(file, r.node, `${label(r)}: no basicPublishingCredentialsPolicies '${kind}' with allow: false`);
        else if (resolvedLiteral(file, property(policy.body, 'properties.allow')) !== false) report.add(file, policy.node, `${label(r)}: basic-auth publishing '${kind}' must have allow: false`);
      }
    });
    return report.result();
  },
};

const LEGACY_FLEX_SETTINGS = ['FUNCTIONS_WORKER_RUNTIME', 'FUNCTIONS_EXTENSION_VERSION', 'WEBSITE_RUN_FROM_PACKAGE', 'WEBSITE_NODE_DEFAULT_VERSION', 'WEBSITE_CONTENTSHARE', 'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING'];

export const flexNodeRule: Rule = {
  id: 'flex-consumption-node-22',
  description: 'The plan is Flex Consumption FC1 on Linux; the site runs node 22 and sets no legacy (pre-Flex) settings',
  check(files) {
    const report = new Report(this.id);
    eachResource(files, 'Microsoft.Web/serverfarms', report, (file, r) => {
      expectLiteral(report, file, r, 'sku.tier', ['FlexConsumption']);
      expectLiteral(report, file, r, 'sku.name', ['FC1']);
      expectLiteral(report, file, r, 'properties.reserved', [true]);
    });
    eachResource(files, 'Microsoft.Web/sites', report, (file, r) => {
      expectLiteral(report, file, r, 'properties.functionAppConfig.runtime.name', ['node']);
      expectLiteral(report, file, r, 'properties.functionAppConfig.runtime.version', ['22']);
      if (property(r.body, 'properties.siteConfig.linuxFxVersion')) report.add(file, property(r.body, 'properties.siteConfig.linuxFxVersion')!, `${label(r)}: linuxFxVersion is not used on Flex Consumption (functionAppConfig.runtime is)`);
    });
    for (const site of collectAppSettings(files)) {
      for (const s of site.settings) {
        if (s.name && LEGACY_FLEX_SETTINGS.includes(s.name)) report.add(s.file, s.nameNode!, `app setting ${s.name} is not supported on Flex Consumption`);
      }
    }
    return report.result();
  },
};

export const appInsightsRule: Rule = {
  id: 'app-insights-entra-only',
  description: 'Application Insights is workspace-based and accepts Entra ID (no instrumentation-key) ingestion only',
  check(files) {
    const report = new Report(this.id);
    eachResource(files, 'Microsoft.Insights/components', report, (file, r) => {
      expectLiteral(report, file, r, 'properties.DisableLocalAuth', [true]);
      if (!property(r.body, 'properties.WorkspaceResourceId')) report.add(file, r.node, `${label(r)}: WorkspaceResourceId is not set (classic App Insights)`);
    });
    return report.result();
  },
};

// ------------------------------------------------------------------ app settings

const SECRET_NAME = /PASSWORD|PASSWD|PWD|CONNECTION_?STRING|CONNSTR|ACCOUNT_?KEY|ACCESS_?KEY|SAS_?TOKEN|CLIENT_?SECRET|INSTRUMENTATION_?KEY|PRIVATE_?KEY|API_?KEY/i;
const SECRET_NAMES_EXACT = ['azurewebjobsstorage', 'azurewebjobsdashboard', 'deployment_storage_connection_string'];
const SECRET_TEXT = /AccountKey=|SharedAccessSignature|SharedAccessKey|InstrumentationKey=|password|pwd=|[?&]sig=|DefaultEndpointsProtocol=|-----BEGIN/i;
const SECRET_PROPERTY = /^(connectionString|primaryKey|secondaryKey|primaryConnectionString|secondaryConnectionString|primaryMasterKey|InstrumentationKey|accessKey|key\d?)$/i;
const AI_CONNECTION_STRING = 'APPLICATIONINSIGHTS_CONNECTION_STRING';

/** Problems with one app setting value: secret-looking text, list*() calls, key properties, @secure() parameters. */
function secretValueProblems(files: readonly BicepFile[], file: BicepFile, value: Node, settingName: string | undefined, depth = 0): string[] {
  if (depth > 8) return [];
  const problems: string[] = [];
  const decls = declarations(file);
  for (const n of walk(value)) {
    if (n.type === 'string_content' && SECRET_TEXT.test(n.text)) problems.push(`value contains secret-looking text "${n.text.slice(0, 40)}"`);
    if (n.type === 'call_expression') {
      const fn = callName(n) ?? '';
      if (/^list/i.test(fn)) problems.push(`value calls ${fn}() (keys or secrets in plain configuration)`);
      if (fn === 'getSecret') problems.push('value calls getSecret() (a secret in plain configuration)');
    }
    if (n.type === 'member_expression') {
      const prop = n.childForFieldName('property')?.text ?? '';
      const allowed = settingName === AI_CONNECTION_STRING && prop === 'ConnectionString';
      if (SECRET_PROPERTY.test(prop) && !allowed) problems.push(`value reads .${prop} (a key or connection string)`);
    }
    if (n.type === 'identifier' && n.parent?.type !== 'member_expression') {
      const param = decls.params.get(n.text);
      if (param && decorator(param.decorators, 'secure')) problems.push(`value uses @secure() parameter ${n.text}`);
      const v = decls.vars.get(n.text);
      if (v) problems.push(...secretValueProblems(files, file, v.value, settingName, depth + 1));
      if (param) {
        for (const { caller, module } of callersOf(files, file)) {
          const arg = property(property(module.body, 'params'), n.text);
          if (arg) problems.push(...secretValueProblems(files, caller, arg, settingName, depth + 1));
        }
      }
    }
  }
  return problems;
}

export const appSettingsNoSecretsRule: Rule = {
  id: 'app-settings-no-secrets',
  description: 'No app setting holds a secret, key or connection string (the App Insights connection string only with Entra auth)',
  check(files) {
    const report = new Report(this.id);
    for (const site of collectAppSettings(files)) {
      for (const u of site.unresolved) report.add(u.file, u.node, `app settings of '${site.site.symbol}' cannot be checked: ${u.reason}`);
      const authString = site.settings.find((s) => s.name === 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING');
      const entraTelemetry = authString?.value ? /Authorization=AAD/.test(authString.value.text) : false;
      for (const s of site.settings) {
        report.checked++;
        const at = s.nameNode ?? s.value ?? site.site.node;
        if (s.name !== undefined) {
          const lower = s.name.toLowerCase();
          if (s.name === AI_CONNECTION_STRING) {
            if (!entraTelemetry) report.add(s.file, at, `${AI_CONNECTION_STRING} without APPLICATIONINSIGHTS_AUTHENTICATION_STRING "...;Authorization=AAD": the instrumentation key would be a credential`);
          } else if (SECRET_NAME.test(s.name) || SECRET_NAMES_EXACT.includes(lower)) {
            report.add(s.file, at, `app setting ${s.name} looks like a secret or connection string`);
          }
        }
        if (s.value) for (const p of secretValueProblems(files, s.file, s.value, s.name)) report.add(s.file, s.value, `app setting ${s.name ?? '(computed name)'}: ${p}`);
      }
    }
    return report.result();
  },
};

export const hostStorageByIdentityRule: Rule = {
  id: 'host-storage-by-identity',
  description: 'Host storage and the deployment package are reached by managed identity (AzureWebJobsStorage__*), never a connection string',
  check(files) {
    const report = new Report(this.id);
    for (const site of collectAppSettings(files)) {
      report.checked++;
      const { file, site: r } = site;
      const byName = (name: string) => site.settings.find((s) => s.name === name);
      for (const name of ['AzureWebJobsStorage__accountName', 'AzureWebJobsStorage__credential', 'AzureWebJobsStorage__clientId']) {
        const s = byName(name);
        if (!s) report.add(file, r.node, `${label(r)}: app setting ${name} is missing`);
        else if (s.conditional) report.add(s.file, s.nameNode ?? r.node, `${label(r)}: app setting ${name} is written only under a condition`);
      }
      const credential = byName('AzureWebJobsStorage__credential');
      if (credential?.value && resolvedLiteral(credential.file, credential.value) !== 'managedidentity') {
        report.add(credential.file, credential.value, `${label(r)}: AzureWebJobsStorage__credential must be 'managedidentity'`);
      }
      const auth = property(r.body, 'properties.functionAppConfig.deployment.storage.authentication.type');
      if (!['UserAssignedIdentity', 'SystemAssignedIdentity'].includes(String(resolvedLiteral(file, auth)))) {
        report.add(file, auth ?? r.node, `${label(r)}: functionAppConfig deployment storage must authenticate with a managed identity`);
      }
    }
    return report.result();
  },
};

// ------------------------------------------------------------------ role assignments

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const roleAssignmentRule: Rule = {
  id: 'role-assignments-documented-ids-resource-scope',
  description: 'Role assignments use documented built-in role ids held in named, commented variables, scoped to the one resource they are for',
  check(files) {
    const report = new Report(this.id);
    eachResource(files, 'Microsoft.Authorization/roleAssignments', report, (file, r) => {
      const decls = declarations(file);
      const roleExpr = property(r.body, 'properties.roleDefinitionId');
      if (!roleExpr) return report.add(file, r.node, `${label(r)}: properties.roleDefinitionId is not set`);
      const roleIds: string[] = [];
      for (const n of walk(roleExpr)) {
        if (n.type === 'string' && GUID.test(stringLiteral(n) ?? '')) {
          report.add(file, n, `${label(r)}: role id ${stringLiteral(n)} is inline; keep it in a named, commented variable`);
          roleIds.push(stringLiteral(n)!.toLowerCase());
        }
        if (n.type === 'identifier' && n.parent?.type !== 'member_expression') {
          const v = decls.vars.get(n.text);
          const id = v ? resolvedLiteral(file, v.value) : undefined;
          if (v && typeof id === 'string' && GUID.test(id)) {
            roleIds.push(id.toLowerCase());
            if (!v.comment) report.add(file, v.node, `role id variable ${v.name} has no comment saying which role it is`);
          } else if (decls.params.has(n.text)) {
            report.add(file, n, `${label(r)}: role id comes from parameter ${n.text}; the role must be fixed in the template`);
          }
        }
      }
      if (roleIds.length !== 1) return report.add(file, roleExpr, `${label(r)}: roleDefinitionId must name exactly one built-in role id (found ${roleIds.length})`);
      const role = DOCUMENTED_ROLES[roleIds[0]!];
      if (!role) return report.add(file, roleExpr, `${label(r)}: role id ${roleIds[0]} is not one of the documented roles (${Object.values(DOCUMENTED_ROLES).map((x) => x.name).join(', ')})`);

      const scope = property(r.body, 'scope');
      const want = role.scopeTypes.join(' or ');
      if (!scope) return report.add(file, r.node, `${label(r)}: no scope, so ${role.name} would apply to the whole resource group; scope it to the ${want} resource`);
      if (scope.type === 'call_expression') return report.add(file, scope, `${label(r)}: scope ${scope.text} is too broad; scope ${role.name} to the ${want} resource`);
      const target = scopeTarget(file, r);
      if (!target) return report.add(file, scope, `${label(r)}: scope ${scope.text} is not a resource declared in this file`);
      if (!role.scopeTypes.some((t) => t.toLowerCase() === target.type.toLowerCase())) {
        report.add(file, scope, `${label(r)}: ${role.name} is scoped to ${target.type}; it belongs on a ${want}`);
      }
    });
    return report.result();
  },
};

/** The resource a role assignment's `scope:` names: `scope: kv`, or one item of a collection, `scope: secrets[i]`. */
function scopeTarget(file: BicepFile, r: ResourceDecl): ResourceDecl | undefined {
  const scope = property(r.body, 'scope');
  const symbol = scope?.type === 'identifier' ? scope : scope?.type === 'subscript_expression' ? scope.childForFieldName('object') : undefined;
  return symbol?.type === 'identifier' ? resourceBySymbol(file, symbol.text) : undefined;
}

/** The one built-in role id of a role assignment (through its variable), lower case; undefined when not exactly one. */
function roleIdOf(file: BicepFile, r: ResourceDecl): string | undefined {
  const decls = declarations(file);
  const ids = new Set<string>();
  for (const n of walk(property(r.body, 'properties.roleDefinitionId') ?? r.body)) {
    const text = n.type === 'string' ? stringLiteral(n) : n.type === 'identifier' ? resolvedLiteral(file, decls.vars.get(n.text)?.value) : undefined;
    if (typeof text === 'string' && GUID.test(text)) ids.add(text.toLowerCase());
  }
  return ids.size === 1 ? [...ids][0] : undefined;
}

/** The parameters an expression draws on, through variables and the loop it sits in (`for x in list`). */
function paramsBehind(file: BicepFile, n: Node | undefined, r?: ResourceDecl, depth = 0): Set<string> {
  const out = new Set<string>();
  if (!n || depth > 10) return out;
  const decls = declarations(file);
  const loop = r ? [...walk(r.node)].find((x) => x.type === 'for_statement') : undefined;
  const init = loop?.childForFieldName('initializer');
  const loopVars = new Set([...(init ? [init.text] : []), ...(loop ? [...walk(loop)].filter((x) => x.type === 'loop_variable').map((x) => x.text) : [])]);
  for (const x of walk(n)) {
    if (x.type !== 'identifier') continue;
    if (decls.params.has(x.text)) out.add(x.text);
    const v = decls.vars.get(x.text);
    if (v) for (const p of paramsBehind(file, v.value, undefined, depth + 1)) out.add(p);
    if (loop && loopVars.has(x.text)) for (const p of paramsBehind(file, iterableOf(loop), undefined, depth + 1)) out.add(p);
  }
  return out;
}

type PrincipalKind = 'broker' | 'operator' | 'consumer';

/** Whose role an assignment is, from the parameter its principalId comes from: brokerPrincipalId is the broker's
 *  identity, admin and operator parameters are people who manage the vault, anything else is a consumer. */
function principalKind(file: BicepFile, r: ResourceDecl): PrincipalKind {
  const params = paramsBehind(file, property(r.body, 'properties.principalId'), r);
  if (params.size === 1 && params.has('brokerPrincipalId')) return 'broker';
  if (params.size > 0 && [...params].every((p) => /^(admin|operator)/i.test(p))) return 'operator';
  return 'consumer';
}

/** The module file that a main.bicep app setting's value comes from (`KEY_VAULT_URL: keyVaultAccess.outputs.uri`). */
function moduleBehindSetting(files: readonly BicepFile[], setting: string): { file?: BicepFile; at?: { file: BicepFile; node: Node }; problem?: string } {
  for (const site of collectAppSettings(files)) {
    const s = site.settings.find((x) => x.name === setting);
    if (!s?.value) continue;
    let value: Node | undefined = s.value;
    for (let i = 0; i < 10 && value?.type === 'identifier'; i++) value = declarations(s.file).vars.get(value.text)?.value;
    const symbol = value ? [...walk(value)].find((x) => x.type === 'identifier') : undefined;
    const module = symbol ? declarations(s.file).modules.find((m) => m.symbol === symbol.text) : undefined;
    if (!module) return { at: { file: s.file, node: s.value }, problem: `${setting} does not come from a module's output (${s.value.text})` };
    return { file: files.find((f) => f.path === module.target), at: { file: s.file, node: s.value } };
  }
  return { problem: `no app setting ${setting} found` };
}

/** The `if (...)` condition of a resource declaration, or undefined when it has none. */
function ifCondition(r: ResourceDecl): Node | undefined {
  const last = r.node.namedChildren[r.node.namedChildren.length - 1];
  return last?.type === 'if_statement' ? last.namedChildren.find((c) => c.type !== 'object') : undefined;
}

/** The key sources a key vault module can be deployed for: its keySource parameter's @allowed values (only
 *  'secret' without one), or a problem when it allows a source whose roles are not known here. */
function keySourcesOf(file: BicepFile): { sources: string[]; problem?: { node: Node; message: string } } {
  const param = declarations(file).params.get('keySource');
  if (!param) return { sources: ['secret'] };
  const allowed = decorator(param.decorators, 'allowed');
  const values = allowed ? [...walk(allowed)].filter((n) => n.type === 'string').map((n) => stringLiteral(n) ?? n.text) : [];
  const unknown = values.filter((v) => !(v in KEY_SOURCE_ROLES));
  if (values.length === 0 || unknown.length > 0) {
    return { sources: values.filter((v) => v in KEY_SOURCE_ROLES), problem: { node: param.node, message: `parameter keySource must be @allowed(${Object.keys(KEY_SOURCE_ROLES).map((k) => `'${k}'`).join(', ')}) or a subset${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}` } };
  }
  return { sources: values };
}

export const keyVaultReadOnlyRule: Rule = {
  id: 'key-vault-broker-key-source-roles-no-consumers',
  description: 'On the vault behind KEY_VAULT_URL (the private key) the broker gets exactly the roles of the key source for every allowed keySource (Secrets User for a key secret; Crypto User for a Key Vault key; Crypto User and Key Vault Reader for a certificate), never one that writes; operators may write, and no consumer gets any role',
  check(files) {
    const report = new Report(this.id);
    const { file, at, problem } = moduleBehindSetting(files, 'KEY_VAULT_URL');
    if (problem || !file) {
      if (at) report.add(at.file, at.node, problem ?? 'the module behind KEY_VAULT_URL is not among the files');
      else if (files.some((f) => collectAppSettings([f]).length > 0)) report.violations.push({ rule: this.id, file: '(all)', line: 0, message: problem ?? 'no key vault module' });
      return report.result();
    }
    for (const r of resourcesOfType(file, 'Microsoft.Authorization/roleAssignments', { existing: false })) {
      report.checked++;
      const kind = principalKind(file, r);
      const role = roleIdOf(file, r);
      const name = role ? (DOCUMENTED_ROLES[role]?.name ?? role) : 'an unknown role';
      if (kind === 'consumer') report.add(file, r.node, `${label(r)}: ${name} for a consumer on the key vault (it holds the private key); consumers read token secrets on the token vault`);
      else if (kind === 'broker' && !Object.values(KEY_SOURCE_ROLES).some((roles) => role !== undefined && roles.includes(role))) {
        report.add(file, r.node, `${label(r)}: the broker gets ${name} on the key vault; it may only read the key secret (Key Vault Secrets User) or sign (Key Vault Crypto User, plus Key Vault Reader for a certificate)`);
      }
    }
    // For each key source the template allows: the broker's role assignments that would be deployed (their if()
    // conditions evaluated with that keySource) must be exactly the roles that source needs.
    const { sources, problem: sourceProblem } = keySourcesOf(file);
    if (sourceProblem) report.add(file, sourceProblem.node, sourceProblem.message);
    const brokerAssignments = resourcesOfType(file, 'Microsoft.Authorization/roleAssignments', { existing: false }).filter((r) => principalKind(file, r) === 'broker');
    for (const source of sources) {
      report.checked++;
      const scope = entryScope(files, file, { keySource: source });
      const granted = new Map<string, ResourceDecl>();
      for (const r of brokerAssignments) {
        const condition = ifCondition(r);
        let deployed: Value = true;
        try {
          if (condition) deployed = evaluate(condition, scope);
        } catch (err) {
          if (!(err instanceof BicepEvalError)) throw err;
          deployed = new Opaque(condition!.text);
        }
        if (typeof deployed !== 'boolean') {
          report.add(file, condition ?? r.node, `${label(r)}: whether the broker gets this role on the key vault depends on more than keySource (${condition?.text}); it must follow the key source alone`);
          continue;
        }
        const role = roleIdOf(file, r);
        if (deployed && role) granted.set(role, r);
      }
      const want = KEY_SOURCE_ROLES[source]!;
      const roleName = (id: string) => DOCUMENTED_ROLES[id]?.name ?? id;
      for (const id of want.filter((id) => !granted.has(id))) report.add(file, file.root, `${file.path}: with keySource '${source}' the broker gets no ${roleName(id)} on the key vault, so it cannot use its key (it needs ${want.map(roleName).join(' + ')})`);
      for (const [id, r] of [...granted].filter(([id]) => !want.includes(id))) report.add(file, r.node, `${label(r)}: with keySource '${source}' the broker gets ${roleName(id)} on the key vault; that source needs exactly ${want.map(roleName).join(' + ')}`);
    }
    for (const r of resourcesOfType(file, 'Microsoft.KeyVault/vaults/secrets', { existing: false })) {
      report.add(file, r.node, `${label(r)}: the template writes a secret into the key vault; only operators put the private key there`);
    }
    return report.result();
  },
};

export const tokenReadersPerSecretRule: Rule = {
  id: 'token-readers-per-secret',
  description: 'A consumer never gets a role on a whole vault: only Key Vault Secrets User on one token secret (a vaults/secrets resource)',
  check(files) {
    const report = new Report(this.id);
    eachResource(files, 'Microsoft.Authorization/roleAssignments', report, (file, r) => {
      if (principalKind(file, r) !== 'consumer') return;
      const role = roleIdOf(file, r);
      const target = scopeTarget(file, r);
      if (!target?.type.toLowerCase().startsWith('microsoft.keyvault/')) return; // storage/telemetry roles are judged elsewhere
      if (target.type.toLowerCase() !== 'microsoft.keyvault/vaults/secrets') report.add(file, r.node, `${label(r)}: a consumer gets a role on the whole ${target.type} '${target.symbol}'; scope it to the token secret (Microsoft.KeyVault/vaults/secrets)`);
      if (role !== SECRETS_USER) report.add(file, r.node, `${label(r)}: a consumer gets ${role ? (DOCUMENTED_ROLES[role]?.name ?? role) : 'an unknown role'}; consumers only read (Key Vault Secrets User)`);
    });
    return report.result();
  },
};

export const tokenVaultRule: Rule = {
  id: 'token-vault-broker-writes',
  description: 'On the vault behind TOKEN_VAULT_URL the broker may write (Secrets Officer), and that vault is not the key vault module',
  check(files) {
    const report = new Report(this.id);
    const keyModule = moduleBehindSetting(files, 'KEY_VAULT_URL');
    const { file, at, problem } = moduleBehindSetting(files, 'TOKEN_VAULT_URL');
    if (problem || !file) {
      if (at) report.add(at.file, at.node, problem ?? 'the module behind TOKEN_VAULT_URL is not among the files');
      return report.result();
    }
    report.checked++;
    if (keyModule.file === file) report.add(at!.file, at!.node, 'TOKEN_VAULT_URL and KEY_VAULT_URL come from the same access module: the broker would write where the private key is');
    const brokerOfficer = resourcesOfType(file, 'Microsoft.Authorization/roleAssignments', { existing: false }).some(
      (r) => principalKind(file, r) === 'broker' && roleIdOf(file, r) === SECRETS_OFFICER,
    );
    if (!brokerOfficer) report.add(file, file.root, `${file.path}: the broker has no Key Vault Secrets Officer on the token vault, so it cannot write tokens`);
    return report.result();
  },
};

/** The list a `[for ... in <list>: ...]` statement iterates over. */
function iterableOf(loop: Node): Node | undefined {
  const skip = new Set([loop.childForFieldName('initializer')?.id, loop.childForFieldName('body')?.id]);
  return loop.namedChildren.find((c) => c.type !== 'for_loop_parameters' && !skip.has(c.id));
}

/** The iterable of a looped resource (`[for x in <iterable>: ...]`), through variables, as the call it ends in. */
function loopIterable(file: BicepFile, r: ResourceDecl): Node | undefined {
  const loop = [...walk(r.node)].find((x) => x.type === 'for_statement');
  if (!loop) return undefined;
  let it: Node | undefined = iterableOf(loop);
  for (let i = 0; i < 10 && it?.type === 'identifier'; i++) it = declarations(file).vars.get(it.text)?.value ?? (declarations(file).params.has(it.text) ? it : undefined);
  return it;
}

export const roleAssignmentNamesUniqueRule: Rule = {
  id: 'role-assignment-names-unique',
  description: 'A role assignment name is a guid() of its scope, principal and role; a looped one iterates over a list deduplicated with union()',
  check(files) {
    const report = new Report(this.id);
    eachResource(files, 'Microsoft.Authorization/roleAssignments', report, (file, r) => {
      const name = property(r.body, 'name');
      if (name?.type !== 'call_expression' || callName(name) !== 'guid') return report.add(file, name ?? r.node, `${label(r)}: name must be guid(<scope id>, <principal>, <role id>)`);
      const principal = property(r.body, 'properties.principalId')?.text ?? '';
      const args = callArguments(name).map((a) => a.text);
      if (!args.some((a) => a.includes(principal))) report.add(file, name, `${label(r)}: guid() does not include the principal (${principal}), so two principals would get one name`);
      if (!r.loop) return;
      const it = loopIterable(file, r);
      if (it?.type !== 'call_expression' || callName(it) !== 'union') {
        report.add(file, it ?? r.node, `${label(r)}: loops over ${it?.text ?? 'an unknown list'}, which may hold duplicates (two assignments with one name); deduplicate it with union(list, [])`);
      }
    });
    return report.result();
  },
};

export const moduleNamesPerEnvironmentRule: Rule = {
  id: 'module-names-per-environment',
  description: 'Nested deployment (module) names in main.bicep include the resource token, so two environments in one resource group do not collide',
  check(files) {
    const report = new Report(this.id);
    for (const file of files.filter((f) => f.path.endsWith('main.bicep'))) {
      for (const m of declarations(file).modules) {
        report.checked++;
        const name = property(m.body, 'name');
        const uses = name ? [...walk(name)].some((n) => n.type === 'identifier' && n.text === 'resourceToken') : false;
        if (!uses) report.add(file, name ?? m.node, `module ${m.symbol}: deployment name ${name?.text ?? '(none)'} does not include resourceToken`);
      }
    }
    return report.result();
  },
};

// ------------------------------------------------------------------ Easy Auth

/** The allowedApplications / identities lists inside an Easy Auth policy expression, through variables. */
function policyLists(file: BicepFile, n: Node, depth = 0): { key: string; value: Node }[] {
  if (depth > 10) return [];
  const out: { key: string; value: Node }[] = [];
  for (const x of walk(n)) {
    if (x.type === 'object') {
      for (const e of objectEntries(x)) if (e.key === 'allowedApplications' || e.key === 'identities') out.push({ key: e.key, value: e.value });
    }
    if (x.type === 'identifier') {
      const v = declarations(file).vars.get(x.text);
      if (v) out.push(...policyLists(file, v.value, depth + 1));
    }
  }
  return out;
}

export const easyAuthRule: Rule = {
  id: 'easy-auth-401-listed-callers',
  description: 'Easy Auth (authsettingsV2) requires authentication, returns 401 without a valid token, and lets only listed callers through (403 for the rest)',
  check(files) {
    const report = new Report(this.id);
    for (const file of files) {
      for (const r of resourcesOfType(file, 'Microsoft.Web/sites/config', { existing: false })) {
        if (String(resolvedLiteral(file, property(r.body, 'name'))).toLowerCase() !== 'authsettingsv2') continue;
        report.checked++;
        expectLiteral(report, file, r, 'properties.platform.enabled', [true]);
        expectLiteral(report, file, r, 'properties.globalValidation.requireAuthentication', [true]);
        expectLiteral(report, file, r, 'properties.globalValidation.unauthenticatedClientAction', ['Return401']);
        expectLiteral(report, file, r, 'properties.identityProviders.azureActiveDirectory.enabled', [true]);
        const aad = 'properties.identityProviders.azureActiveDirectory.validation';
        const audiences = property(r.body, `${aad}.allowedAudiences`);
        if (!audiences) report.add(file, r.node, `${label(r)}: ${aad}.allowedAudiences is not set`);
        else if (audiences.type === 'array' && audiences.namedChildren.length === 0) report.add(file, audiences, `${label(r)}: ${aad}.allowedAudiences is an empty list`);
        // The policy may be built from variables (only the non-empty lists set, since Easy Auth ANDs them).
        const policy = property(r.body, `${aad}.defaultAuthorizationPolicy`);
        const lists = policy ? policyLists(file, policy) : [];
        if (lists.length === 0) report.add(file, policy ?? r.node, `${label(r)}: defaultAuthorizationPolicy sets neither allowedApplications nor allowedPrincipals.identities, so any caller in the tenant would be let through`);
        for (const { key, value } of lists) {
          if (value.type === 'array' && value.namedChildren.length === 0) report.add(file, value, `${label(r)}: ${key} is an empty list`);
        }
        const excluded = property(r.body, 'properties.globalValidation.excludedPaths');
        for (const n of excluded?.type === 'array' ? excluded.namedChildren : []) {
          const path = stringLiteral(n);
          if (path !== '/api/health') report.add(file, n, `${label(r)}: excluded path ${n.text} bypasses Easy Auth (only /api/health may)`);
        }
      }
    }
    return report.result();
  },
};

// ------------------------------------------------------------------ declarations

export const paramsDescribedRule: Rule = {
  id: 'params-described',
  description: 'Every parameter has a non-empty @description',
  check(files) {
    const report = new Report(this.id);
    for (const file of files) {
      for (const p of declarations(file).params.values()) {
        report.checked++;
        const d = decorator(p.decorators, 'description');
        const text = d ? stringLiteral(callArguments(d.namedChildren[0]!)[0]) : undefined;
        if (!text?.trim()) report.add(file, p.node, `parameter ${p.name} has no @description`);
      }
    }
    return report.result();
  },
};

export const outputsUpperSnakeRule: Rule = {
  id: 'outputs-upper-snake',
  description: 'Outputs of the entry file (main.bicep) are UPPER_SNAKE so azd can store them as environment variables',
  check(files) {
    const report = new Report(this.id);
    for (const file of files.filter((f) => f.path.endsWith('main.bicep'))) {
      for (const o of declarations(file).outputs) {
        report.checked++;
        if (!/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/.test(o.name)) report.add(file, o.node, `output ${o.name} is not UPPER_SNAKE`);
        if (o.value && [...walk(o.value)].some((n) => n.type === 'call_expression' && /^list/i.test(callName(n) ?? ''))) {
          report.add(file, o.node, `output ${o.name} exposes a list*() result`);
        }
      }
    }
    return report.result();
  },
};

// ------------------------------------------------------------------ alerts

/** The broker's metrics as the telemetry emits them to Application Insights (customMetrics): name -> attributes. */
export const TELEMETRY_CONTRACT: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'broker.refresh': ['broker.profile', 'broker.refresh.outcome', 'error.type', 'broker.trigger'],
  'broker.token.time_to_expiry': ['broker.profile'],
  'http.client.request.duration': ['server.address', 'http.response.status_code', 'error.type', 'broker.upstream'],
  'broker.token.served': ['broker.profile', 'broker.outcome', 'broker.caller.app_id'],
  'broker.key.expires_in': ['broker.profile', 'broker.key.source'],
  'broker.key.age': ['broker.profile', 'broker.key.source'],
});
const READER_ROLES = { workspace: '73c42c96-874c-492b-b04d-ab87d138a893', component: '43d0d8ad-25c7-4714-9337-8ba259a9fe05' };

/** KQL texts in a file: every string literal (multi-line ones included) that reads customMetrics. */
export function kqlTexts(file: BicepFile): { node: Node; text: string }[] {
  const out: { node: Node; text: string }[] = [];
  for (const n of walk(file.root)) {
    if (n.type !== 'string') continue;
    const text = n.text.startsWith("'''") ? n.text.slice(3, -3) : (stringLiteral(n) ?? n.text);
    if (/\bcustomMetrics\b/.test(text)) out.push({ node: n, text });
  }
  return out;
}

/** Metric names and customDimensions keys a KQL text uses, and which of them the telemetry contract lacks. */
export function kqlContractProblems(text: string): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const m of text.matchAll(/\bname\s*==\s*'([^']*)'/g)) names.add(m[1]!);
  for (const m of text.matchAll(/\bname\s+in\s*\(([^)]*)\)/g)) for (const q of m[1]!.matchAll(/'([^']*)'/g)) names.add(q[1]!);
  if (names.size === 0) problems.push('reads customMetrics without filtering on a metric name');
  for (const n of names) if (!(n in TELEMETRY_CONTRACT)) problems.push(`metric "${n}" is not one the broker emits (${Object.keys(TELEMETRY_CONTRACT).join(', ')})`);
  const attributes = new Set([...names].flatMap((n) => TELEMETRY_CONTRACT[n] ?? []));
  for (const m of text.matchAll(/customDimensions\[\s*'([^']*)'\s*\]/g)) {
    if (!attributes.has(m[1]!)) problems.push(`attribute "${m[1]}" is not one of the metrics it reads (${[...names].join(', ')})`);
  }
  return problems;
}

export const alertRulesRule: Rule = {
  id: 'alert-rules-identity-readers-contract',
  description: 'A log alert rule runs as a managed identity that holds reader roles on the workspace and the component (App Insights takes Entra ID only), is scoped to the component, is enabled, notifies an action group, and queries only metrics and attributes the broker emits',
  check(files) {
    const report = new Report(this.id);
    for (const file of files) {
      const rules = resourcesOfType(file, 'Microsoft.Insights/scheduledQueryRules', { existing: false });
      for (const r of rules) {
        report.checked++;
        expectLiteral(report, file, r, 'kind', ['LogAlert']);
        expectLiteral(report, file, r, 'identity.type', ['UserAssigned', 'SystemAssigned']);
        expectLiteral(report, file, r, 'properties.enabled', [true]);
        const scopes = property(r.body, 'properties.scopes');
        const scopeItems = scopes?.type === 'array' ? scopes.namedChildren : [];
        if (scopeItems.length === 0) report.add(file, scopes ?? r.node, `${label(r)}: properties.scopes must list the Application Insights component`);
        for (const item of scopeItems) {
          const symbol = item.type === 'member_expression' ? item.childForFieldName('object')?.text : undefined;
          const target = symbol ? resourceBySymbol(file, symbol) : undefined;
          if (target?.type.toLowerCase() !== 'microsoft.insights/components') report.add(file, item, `${label(r)}: scope ${item.text} is not an Application Insights component's id (a resource group or subscription scope would query every resource's logs)`);
        }
        if (!property(r.body, 'properties.actions.actionGroups')) report.add(file, r.node, `${label(r)}: properties.actions.actionGroups is not set: the alert would notify no one`);
      }
      if (rules.length === 0) continue;
      const assignments = resourcesOfType(file, 'Microsoft.Authorization/roleAssignments', { existing: false });
      for (const [what, roleId, type] of [['workspace', READER_ROLES.workspace, 'Microsoft.OperationalInsights/workspaces'], ['component', READER_ROLES.component, 'Microsoft.Insights/components']] as const) {
        const found = assignments.some((a) => roleIdOf(file, a) === roleId && scopeTarget(file, a)?.type.toLowerCase() === type.toLowerCase());
        if (!found) report.add(file, file.root, `${file.path}: the alert rules' identity has no ${DOCUMENTED_ROLES[roleId]!.name} role on the ${what} (${type}), so its queries would be refused`);
      }
      const queries = kqlTexts(file);
      if (queries.length === 0) report.add(file, file.root, `${file.path}: alert rules but no query over customMetrics`);
      for (const q of queries) for (const p of kqlContractProblems(q.text)) report.add(file, q.node, `alert query: ${p}`);
    }
    return report.result();
  },
};

/** The objects a receivers list is built from: inline objects, or objects in the variables it names (loops too). */
function receiverObjects(file: BicepFile, n: Node | undefined, depth = 0): Node[] {
  if (!n || depth > 10) return [];
  const out: Node[] = [];
  for (const x of walk(n)) {
    if (x.type === 'object' && objectEntries(x).some((e) => e.key === 'name')) out.push(x);
    if (x.type === 'identifier') out.push(...receiverObjects(file, declarations(file).vars.get(x.text)?.value, depth + 1));
  }
  return out;
}

export const actionGroupRule: Rule = {
  id: 'action-group-global-common-schema-secure-webhook',
  description: 'An action group is global and enabled, its short name fits (12 characters), every receiver uses the common alert schema, and a webhook URL comes from a @secure() parameter',
  check(files) {
    const report = new Report(this.id);
    eachResource(files, 'Microsoft.Insights/actionGroups', report, (file, r) => {
      expectLiteral(report, file, r, 'location', ['global']);
      expectLiteral(report, file, r, 'properties.enabled', [true]);
      const short = resolvedLiteral(file, property(r.body, 'properties.groupShortName'));
      if (typeof short !== 'string' || short.length < 1 || short.length > 12) report.add(file, property(r.body, 'properties.groupShortName') ?? r.node, `${label(r)}: groupShortName must be a literal of 1-12 characters`);
      for (const kind of ['emailReceivers', 'webhookReceivers']) {
        for (const o of receiverObjects(file, property(r.body, `properties.${kind}`))) {
          if (resolvedLiteral(file, property(o, 'useCommonAlertSchema')) !== true) report.add(file, o, `${label(r)}: a receiver in ${kind} does not set useCommonAlertSchema: true`);
          const uri = property(o, 'serviceUri');
          if (uri) {
            const params = [...walk(uri)].filter((x) => x.type === 'identifier').map((x) => declarations(file).params.get(x.text)).filter((p) => p !== undefined);
            if (params.length === 0 || params.some((p) => !decorator(p.decorators, 'secure'))) report.add(file, uri, `${label(r)}: webhook serviceUri ${uri.text} must come from a @secure() parameter (webhook URLs carry tokens)`);
          }
        }
      }
    });
    return report.result();
  },
};

export const RULES: readonly Rule[] = [
  keyVaultRule,
  storageRule,
  siteRule,
  flexNodeRule,
  appInsightsRule,
  appSettingsNoSecretsRule,
  hostStorageByIdentityRule,
  roleAssignmentRule,
  keyVaultReadOnlyRule,
  tokenReadersPerSecretRule,
  tokenVaultRule,
  roleAssignmentNamesUniqueRule,
  moduleNamesPerEnvironmentRule,
  easyAuthRule,
  paramsDescribedRule,
  outputsUpperSnakeRule,
  alertRulesRule,
  actionGroupRule,
];

/** Convenience for tests: the violations of one rule over some files. */
export function violations(rule: Rule, files: readonly BicepFile[]): Violation[] {
  return rule.check(files).violations;
}
