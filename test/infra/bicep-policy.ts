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
  property,
  resolvedLiteral,
  resourceBySymbol,
  resourcesOfType,
  stringLiteral,
  walk,
} from './bicep-tree.js';

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

/** Built-in role ids as Azure documents them (Azure built-in roles), and the only resource type each may be scoped to. */
export const DOCUMENTED_ROLES: Readonly<Record<string, { name: string; scopeType: string }>> = Object.freeze({
  '4633458b-17de-408a-b874-0445c86b69e6': { name: 'Key Vault Secrets User', scopeType: 'Microsoft.KeyVault/vaults' },
  'b86a8fe4-44ce-4948-aee5-eccb2c155cd7': { name: 'Key Vault Secrets Officer', scopeType: 'Microsoft.KeyVault/vaults' },
  '12338af0-0e69-4776-bea7-57ae8d297424': { name: 'Key Vault Crypto User', scopeType: 'Microsoft.KeyVault/vaults' },
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': { name: 'Storage Blob Data Owner', scopeType: 'Microsoft.Storage/storageAccounts' },
  '3913510d-42f4-4e42-8a64-420c390055eb': { name: 'Monitoring Metrics Publisher', scopeType: 'Microsoft.Insights/components' },
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
  id: 'site-https-tls12-ftps-disabled',
  description: 'A site is HTTPS only, TLS 1.2+, FTP(S) disabled, and has basic-auth publishing (ftp and scm) turned off',
  check(files) {
    const report = new Report(this.id);
    eachResource(files, 'Microsoft.Web/sites', report, (file, r) => {
      expectLiteral(report, file, r, 'properties.httpsOnly', [true]);
      expectLiteral(report, file, r, 'properties.siteConfig.minTlsVersion', ['1.2', '1.3']);
      expectLiteral(report, file, r, 'properties.siteConfig.ftpsState', ['Disabled']);
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
      if (!scope) return report.add(file, r.node, `${label(r)}: no scope, so ${role.name} would apply to the whole resource group; scope it to the ${role.scopeType} resource`);
      if (scope.type === 'call_expression') return report.add(file, scope, `${label(r)}: scope ${scope.text} is too broad; scope ${role.name} to the ${role.scopeType} resource`);
      const target = scope.type === 'identifier' ? resourceBySymbol(file, scope.text) : undefined;
      if (!target) return report.add(file, scope, `${label(r)}: scope ${scope.text} is not a resource declared in this file`);
      if (target.type.toLowerCase() !== role.scopeType.toLowerCase()) {
        report.add(file, scope, `${label(r)}: ${role.name} is scoped to ${target.type}; it belongs on a ${role.scopeType}`);
      }
    });
    return report.result();
  },
};

// ------------------------------------------------------------------ Easy Auth

export const easyAuthRule: Rule = {
  id: 'easy-auth-401-listed-callers',
  description: 'Easy Auth (authsettingsV2) requires authentication, returns 401 to anonymous callers, and allows only listed callers',
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
        for (const p of [`${aad}.allowedAudiences`, `${aad}.defaultAuthorizationPolicy.allowedApplications`, `${aad}.defaultAuthorizationPolicy.allowedPrincipals.identities`]) {
          const node = property(r.body, p);
          if (!node) report.add(file, r.node, `${label(r)}: ${p} is not set, so any caller in the tenant would be let through`);
          else if (node.type === 'array' && node.namedChildren.length === 0) report.add(file, node, `${label(r)}: ${p} is an empty list`);
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

export const RULES: readonly Rule[] = [
  keyVaultRule,
  storageRule,
  siteRule,
  flexNodeRule,
  appInsightsRule,
  appSettingsNoSecretsRule,
  hostStorageByIdentityRule,
  roleAssignmentRule,
  easyAuthRule,
  paramsDescribedRule,
  outputsUpperSnakeRule,
];

/** Convenience for tests: the violations of one rule over some files. */
export function violations(rule: Rule, files: readonly BicepFile[]): Violation[] {
  return rule.check(files).violations;
}
