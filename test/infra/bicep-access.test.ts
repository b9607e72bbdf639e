// Evaluates what infra/ decides from its parameters, where a wrong decision would only show at deploy time:
// who reads which token secret (deduplicated, per profile), which placeholders are written, and the settings
// combinations the template refuses with fail() instead of silently doing less.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { BicepEvalError, type Value, entryFile, entryScope, evaluate, scopeFor } from './bicep-eval.js';
import { type BicepFile, declarations, loadBicepFiles, parseBicep, property } from './bicep-tree.js';

const REQUIRED: Record<string, Value> = { environmentName: 'dev', maskinportenClientId: 'client', maskinportenScopes: 'altinn:serviceowner' };
const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';

let files: BicepFile[];
beforeAll(async () => {
  files = await loadBicepFiles('infra');
});

/** A variable of `path` (main.bicep or a module it calls), evaluated with main.bicep's parameters. */
function variable(path: string, name: string, params: Record<string, Value>): Value {
  const file = files.find((f) => f.path === path)!;
  const decl = declarations(file).vars.get(name);
  if (!decl) throw new Error(`${path} has no variable ${name}`);
  return evaluate(decl.value, scopeFor(file, entryScope(files, entryFile(files), { ...REQUIRED, ...params })));
}
/** A parameter main.bicep passes to one of its modules. */
function moduleArgument(module: string, param: string, params: Record<string, Value>): Value {
  const main = entryFile(files);
  const call = declarations(main).modules.find((m) => m.symbol === module)!;
  return evaluate(property(call.body, `params.${param}`)!, entryScope(files, main, { ...REQUIRED, ...params }));
}
const TOKEN_MODULE = 'infra/modules/token-vault-access.bicep';

describe('token readers: one role assignment per secret and principal', () => {
  test('a principal listed twice (commas, spaces, repeats) gets one grant on the default token secret', () => {
    const grants = variable(TOKEN_MODULE, 'grants', { keyVaultReaderPrincipalIds: `${A}, ${B} ${A},,${B}` });
    expect(grants).toEqual([
      { secret: 'altinn-token', principalId: A, principalType: 'ServicePrincipal' },
      { secret: 'altinn-token', principalId: B, principalType: 'ServicePrincipal' },
    ]);
  });

  test('without the union() the list would hold duplicates (the evaluator sees them)', async () => {
    const file = await parseBicep(`var ids = filter(split(replace('${A} ${A}', ' ', ','), ','), id => !empty(id))\nvar unique = union(ids, [])\n`);
    const scope = entryScope([file], file, {});
    expect(evaluate(declarations(file).vars.get('ids')!.value, scope)).toEqual([A, A]);
    expect(evaluate(declarations(file).vars.get('unique')!.value, scope)).toEqual([A]);
  });

  test('named profiles map to the token secret the app uses for them', () => {
    const params: Record<string, Value> = {
      extraAppSettings: { PROFILE__billing__MASKINPORTEN_SCOPES: 'x', PROFILE__billing__TOKEN_SECRET: 'billing-token', PROFILE__tax_2__MASKINPORTEN_SCOPES: 'y' },
      tokenSecretReaders: [
        { profile: 'billing', principalId: A },
        { profile: 'tax_2', principalId: B, principalType: 'Group' },
        { profile: 'default', principalId: A },
        { profile: 'billing', principalId: A },
      ],
    };
    expect(variable(TOKEN_MODULE, 'grants', params)).toEqual([
      { secret: 'billing-token', principalId: A, principalType: 'ServicePrincipal' },
      { secret: 'altinn-token-tax-2', principalId: B, principalType: 'Group' },
      { secret: 'altinn-token', principalId: A, principalType: 'ServicePrincipal' },
    ]);
    expect(variable(TOKEN_MODULE, 'readableSecretNames', params)).toEqual(['billing-token', 'altinn-token-tax-2', 'altinn-token']);
  });

  test('a reader for a profile that is not configured stops the deployment', () => {
    expect(() => variable(TOKEN_MODULE, 'grants', { tokenSecretReaders: [{ profile: 'biling', principalId: A }] })).toThrow(
      /fail\(\): tokenSecretReaders: profile "biling" is not configured/,
    );
  });

  test('placeholders only for token secrets that do not exist yet (a live token is never replaced)', () => {
    const params = { keyVaultReaderPrincipalIds: A, extraAppSettings: { PROFILE__billing__MASKINPORTEN_SCOPES: 'x' }, tokenSecretReaders: [{ profile: 'billing', principalId: B }] };
    expect(variable(TOKEN_MODULE, 'placeholderSecretNames', params)).toEqual(['altinn-token', 'altinn-token-billing']);
    expect(variable(TOKEN_MODULE, 'placeholderSecretNames', { ...params, existingTokenSecretNames: 'altinn-token' })).toEqual(['altinn-token-billing']);
    expect(variable(TOKEN_MODULE, 'placeholderSecretNames', { ...params, existingTokenSecretNames: 'altinn-token, altinn-token-billing' })).toEqual([]);
    expect(variable(TOKEN_MODULE, 'placeholderSecretNames', {})).toEqual([]);
  });

  test('the placeholder is marked so the broker can tell it from a token', () => {
    expect(variable(TOKEN_MODULE, 'placeholderTags', {})).toEqual({ 'broker-placeholder': 'true' });
    expect(variable(TOKEN_MODULE, 'placeholderContentType', {})).toBe('application/vnd.maskinporten-broker.placeholder');
    expect(String(variable(TOKEN_MODULE, 'placeholderValue', {}))).not.toMatch(/^ey/); // never looks like a JWT
  });
});

describe('the two vaults', () => {
  test('by default: a new key vault and a new token vault', () => {
    expect(variable('infra/main.bicep', 'useExistingKeyVault', {})).toBe(false);
    expect(variable('infra/main.bicep', 'useExistingTokenVault', {})).toBe(false);
    expect(String(variable('infra/main.bicep', 'keyVaultName', {}))).toMatch(/^<'kv-/);
    expect(String(variable('infra/main.bicep', 'tokenVaultName', {}))).toMatch(/^<'kvt-/);
  });
  test('existing vaults for either, or one vault for both', () => {
    expect(variable('infra/main.bicep', 'keyVaultName', { existingKeyVaultName: 'kv-shared' })).toBe('kv-shared');
    expect(variable('infra/main.bicep', 'useExistingTokenVault', { existingKeyVaultName: 'kv-shared' })).toBe(false);
    const one = { existingKeyVaultName: 'kv-one', existingTokenVaultName: 'kv-one' };
    expect([variable('infra/main.bicep', 'keyVaultName', one), variable('infra/main.bicep', 'tokenVaultName', one)]).toEqual(['kv-one', 'kv-one']);
  });
});

describe('Easy Auth and caller authorization: contradictory settings stop the deployment', () => {
  const easyAuth = (params: Record<string, Value>) => moduleArgument('functionApp', 'enableEasyAuth', params);

  test('off by default; AUTH_CLIENT_ID alone turns on caller authorization in code only', () => {
    expect(easyAuth({})).toBe(false);
    expect(easyAuth({ authClientId: A })).toBe(false);
    expect(variable('infra/main.bicep', 'callerAuthorizationEnabled', { authClientId: A })).toBe(true);
  });
  test('on with AUTH_CLIENT_ID and either list of callers', () => {
    expect(easyAuth({ enableEasyAuth: true, authClientId: A, allowedCallerApplicationIds: B })).toBe(true);
    expect(easyAuth({ enableEasyAuth: true, authClientId: A, allowedCallerObjectIds: B })).toBe(true);
  });
  test.each([
    ['Easy Auth without any allowed caller', { enableEasyAuth: true, authClientId: A }, 'no allowed caller is set'],
    ['Easy Auth with only separators as callers', { enableEasyAuth: true, authClientId: A, allowedCallerApplicationIds: ' , ' }, 'no allowed caller is set'],
    ['Easy Auth without AUTH_CLIENT_ID', { enableEasyAuth: true, allowedCallerApplicationIds: B }, 'AUTH_CLIENT_ID (authClientId) is empty'],
    ['callers without Easy Auth (they would do nothing)', { authClientId: A, allowedCallerObjectIds: B }, 'ENABLE_EASY_AUTH (enableEasyAuth) is not true'],
    ['AUTH_AUDIENCE without AUTH_CLIENT_ID', { authAudience: 'api://x' }, 'AUTH_AUDIENCE (authAudience) is set but AUTH_CLIENT_ID'],
  ])('refuses %s', (_what, params, message) => {
    expect(() => easyAuth(params)).toThrow(BicepEvalError);
    expect(() => easyAuth(params)).toThrow(message);
  });
  test('the function app sets only the non-empty allow-list (Easy Auth ANDs the lists it is given)', () => {
    const scope = { enableEasyAuth: true, authClientId: A, allowedCallerApplicationIds: `${B} ${B}` };
    const app = 'infra/modules/function-app.bicep';
    expect(variable(app, 'allowedApplicationsPolicy', scope)).toEqual({ allowedApplications: [B] });
    expect(variable(app, 'allowedPrincipalsPolicy', scope)).toEqual({});
  });
});

describe('the evaluator', () => {
  test('keeps literal text between interpolations (the grammar tucks a lone space into the interpolation node)', async () => {
    const file = await parseBicep("var x = 'a'\nvar s = 'api://${x} ${x}/${x}  end'\n");
    expect(evaluate(declarations(file).vars.get('s')!.value, entryScope([file], file, {}))).toBe('api://a a/a  end');
  });
});

describe('the evaluator and the grammar', () => {
  test('refuses a lambda body the grammar would misread, and reads the parenthesised form', async () => {
    const file = await parseBicep("var xs = [\n  { name: 'a' }\n]\nvar bad = map(xs, x => x.name)\nvar good = map(xs, x => (x.name))\n");
    const scope = entryScope([file], file, {});
    expect(() => evaluate(declarations(file).vars.get('bad')!.value, scope)).toThrow('must be in parentheses');
    expect(evaluate(declarations(file).vars.get('good')!.value, scope)).toEqual(['a']);
  });
});
