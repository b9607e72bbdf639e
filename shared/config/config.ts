// Parses and validates the app's settings (environment variables / app settings) into a frozen Config.
// Pure: takes the environment as an argument. Every problem is collected and reported at once, naming the setting.
import { X509Certificate } from 'node:crypto';
import { Cron } from 'croner';
import { DEFAULT_REFRESH_SCHEDULE } from './defaults.js';
import { ConfigError, type ConfigProblem, type ConfigProblemCode } from '../errors.js';
import { asciiLower, checkPlaceholders, checkSecretConflicts, checkUnknownSettings, closest } from './checks.js';

export { DEFAULT_REFRESH_SCHEDULE };

export type Environment = 'test' | 'prod';

export interface SystemUser {
  /** The system user's org number, always with the `0192:` prefix. */
  readonly orgId: string;
  readonly externalRef?: string;
}

/** One token the broker keeps fresh: a client, its scopes and grant options, and where its token is stored. */
export interface Profile {
  readonly name: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** MASKINPORTEN_KEY_SECRET: the secret holding the private key. Absent when keySource names another source. */
  readonly keySecret?: string;
  /** MASKINPORTEN_VAULT_KEY or MASKINPORTEN_CERTIFICATE: the grant is signed inside Key Vault (see key-source.ts). */
  readonly keySource?: KeySource;
  readonly kid?: string;
  readonly tokenSecret: string;
  /** false: the Maskinporten token itself is stored and served. */
  readonly altinnExchange: boolean;
  readonly resource?: readonly string[];
  readonly consumerOrg?: string;
  readonly systemUser?: SystemUser;
  /** App roles that open this profile's token (PROFILE__<name>__AUTH_ROLES / AUTH_ROLES) instead of the default
   *  `Tokens.Read.All` or `Tokens.Read.<name>`; only used when caller authorization is on. */
  readonly authRoles?: readonly string[];
}

/** Caller authorization with Entra ID access tokens (on when AUTH_TENANT_ID is set). */
export interface CallerAuthConfig {
  readonly tenantId: string;
  /** Accepted `aud` values: the broker's app ID URI and/or client id. */
  readonly audiences: readonly string[];
  /** Without trailing slash, e.g. https://login.microsoftonline.com (or a loopback simulator). */
  readonly authority: string;
}

/** A key that signs inside Key Vault (KEY_VAULT_URL): the broker may use it but never read it. */
export type KeySource =
  | { readonly kind: 'vault-key'; readonly name: string; readonly vaultUrl: string; readonly local: boolean }
  | {
      readonly kind: 'certificate';
      readonly name: string;
      /** MASKINPORTEN_CERTIFICATE_CHAIN: intermediate certificates (base64 DER) sent after the leaf in x5c. */
      readonly chain: readonly string[];
      readonly vaultUrl: string;
      readonly local: boolean;
    };

export interface Config {
  readonly keyVaultUrl: string;
  /** true when KEY_VAULT_URL points at a loopback simulator (plain http allowed, dummy credential). */
  readonly localVault: boolean;
  /** Where token secrets are written (TOKEN_VAULT_URL); the key vault (KEY_VAULT_URL) when not set. */
  readonly tokenVaultUrl: string;
  readonly localTokenVault: boolean;
  /** Caller authorization; undefined when off (AUTH_TENANT_ID not set): then the function key guards the token. */
  readonly auth?: CallerAuthConfig;
  readonly environment: Environment;
  /** Maskinporten issuer, with trailing slash; the grant's `aud`. */
  readonly issuer: string;
  readonly tokenUrl: string;
  /** Altinn platform base URL, without trailing slash. */
  readonly altinnUrl: string;
  readonly refreshSchedule: string;
  /** The timer refreshes a token that has less than this many seconds left. */
  readonly refreshBeforeExpirySeconds: number;
  /** GET /api/token refreshes first when the token has less than this many seconds left. */
  readonly minTokenTtlSeconds: number;
  /** A profile mints at most once per this many seconds while it has a valid token to serve. */
  readonly minMintIntervalSeconds: number;
  /** A token whose exp is further ahead than this is refused (stored or minted). */
  readonly maxTokenLifetimeSeconds: number;
  /** Timeout of every outbound HTTP call. */
  readonly httpTimeoutMs: number;
  /** Attempts per upstream call on transient failures (1 = no retry). */
  readonly retryMaxAttempts: number;
  /** The `default` profile first, then any named profiles. */
  readonly profiles: readonly Profile[];
}

export const ENVIRONMENTS: Readonly<Record<Environment, { issuer: string; altinnUrl: string }>> = Object.freeze({
  test: { issuer: 'https://test.maskinporten.no/', altinnUrl: 'https://platform.tt02.altinn.no' },
  prod: { issuer: 'https://maskinporten.no/', altinnUrl: 'https://platform.altinn.no' },
});

export const DEFAULT_TOKEN_SECRET = 'altinn-token';
export const DEFAULT_PROFILE = 'default';

/** Settings a named profile may set as `PROFILE__<name>__<SETTING>`. */
export const PROFILE_SETTINGS = [
  'MASKINPORTEN_CLIENT_ID',
  'MASKINPORTEN_SCOPES',
  'MASKINPORTEN_KEY_SECRET',
  'MASKINPORTEN_KID',
  'MASKINPORTEN_VAULT_KEY',
  'MASKINPORTEN_CERTIFICATE',
  'MASKINPORTEN_CERTIFICATE_CHAIN',
  'TOKEN_SECRET',
  'ALTINN_EXCHANGE',
  'MASKINPORTEN_RESOURCE',
  'MASKINPORTEN_CONSUMER_ORG',
  'ALTINN_SYSTEMUSER_ORG',
  'ALTINN_SYSTEMUSER_EXTERNAL_REF',
  'AUTH_ROLES',
] as const;
type ProfileSetting = (typeof PROFILE_SETTINGS)[number];

type Env = Readonly<Record<string, string | undefined>>;

const SECRET_NAME = /^[a-zA-Z][0-9a-zA-Z-]{0,126}$/;
const PROFILE_NAME = /^[a-z0-9]+(?:[_-][a-z0-9]+)*$/;
const MAX_PROFILE_NAME = 40;

/** The profile a route asks for (`{profile?}`; default when absent), lower-cased as ASCII only (no Unicode case
 *  folding: the Kelvin sign is not "k"), and the name to log for it: the name itself when it could be a profile
 *  name, else a fixed text, so nothing from the URL reaches roles or logs. */
export function routeProfile(param: string | null | undefined): { readonly asked: string; readonly wellFormed: boolean; readonly logName: string } {
  const asked = asciiLower(param ?? DEFAULT_PROFILE);
  const wellFormed = PROFILE_NAME.test(asked) && asked.length <= MAX_PROFILE_NAME;
  return { asked, wellFormed, logName: wellFormed ? asked : '(invalid name)' };
}
const PROFILE_KEY = /^PROFILE__(.+?)__([A-Z_]+)$/i;

class Reader {
  readonly problems: ConfigProblem[] = [];
  constructor(private readonly env: Env) {}

  fail(setting: string, code: ConfigProblemCode, message: string): undefined {
    this.problems.push({ setting, code, message });
    return undefined;
  }

  raw(setting: string): string | undefined {
    const v = this.env[setting]?.trim();
    return v === undefined || v === '' ? undefined : v;
  }

  required(setting: string, what: string): string | undefined {
    return this.raw(setting) ?? this.fail(setting, 'SETTING_MISSING', `is required: set it to ${what}.`);
  }

  secretName(setting: string, value: string | undefined): string | undefined {
    if (value === undefined || SECRET_NAME.test(value)) return value;
    return this.fail(setting, 'SETTING_BAD_SECRET_NAME', 'is not a valid Key Vault secret name: use 1-127 letters, digits and dashes, starting with a letter.');
  }

  url(setting: string, value: string | undefined): URL | undefined {
    if (value === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return this.fail(setting, 'SETTING_BAD_URL', `is not a valid URL: give an absolute https:// URL.`);
    }
    if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url))) return url;
    return this.fail(setting, 'SETTING_INSECURE_URL', `must use https (plain http is allowed only for 127.0.0.1 or localhost).`);
  }

  integer(setting: string, fallback: number, min: number, max: number): number {
    const v = this.raw(setting);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.fail(setting, 'SETTING_BAD_NUMBER', `must be a whole number from ${min} to ${max}.`);
      return fallback;
    }
    return n;
  }

  bool(setting: string, value: string | undefined, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    const v = value.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
    this.fail(setting, 'SETTING_BAD_BOOLEAN', 'must be true or false.');
    return fallback;
  }
}

export function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

/** Splits a scope list written with spaces and/or commas; keeps order, drops duplicates. */
export function splitList(value: string): string[] {
  return [...new Set(value.split(/[\s,]+/).filter(Boolean))];
}

function parseOrgNumber(r: Reader, setting: string, value: string | undefined, prefix = false): string | undefined {
  if (value === undefined) return undefined;
  const digits = value.replace(/^0192:/, '');
  if (!/^\d{9}$/.test(digits)) {
    return r.fail(setting, 'SETTING_BAD_ORG_NUMBER', `must be a 9-digit Norwegian organisation number${prefix ? ' (optionally prefixed 0192:)' : ''}.`);
  }
  return prefix ? `0192:${digits}` : digits;
}

function parseProfile(
  r: Reader,
  name: string,
  get: (s: ProfileSetting) => string | undefined,
  settingName: (s: ProfileSetting) => string,
  inherit?: Profile,
): Profile | undefined {
  const clientId =
    get('MASKINPORTEN_CLIENT_ID') ??
    inherit?.clientId ??
    r.fail(settingName('MASKINPORTEN_CLIENT_ID'), 'SETTING_MISSING', 'is required: set it to the client id from the Maskinporten self-service portal.');
  if (clientId !== undefined && /\s/.test(clientId)) r.fail(settingName('MASKINPORTEN_CLIENT_ID'), 'SETTING_BAD_VALUE', 'must not contain spaces.');

  const scopeText = get('MASKINPORTEN_SCOPES');
  const scopes = scopeText === undefined ? [] : splitList(scopeText);
  if (scopes.length === 0) {
    r.fail(settingName('MASKINPORTEN_SCOPES'), 'SETTING_MISSING', 'is required: list the scopes registered on the client, separated by spaces (e.g. "altinn:serviceowner").');
  }

  const keySecretText = get('MASKINPORTEN_KEY_SECRET');
  const own = parseKeySource(r, get, settingName);
  const keySecret =
    keySecretText !== undefined
      ? r.secretName(settingName('MASKINPORTEN_KEY_SECRET'), keySecretText)
      : own !== undefined
        ? undefined
        : (inherit?.keySecret ??
          (inherit?.keySource
            ? undefined
            : r.fail(settingName('MASKINPORTEN_KEY_SECRET'), 'SETTING_MISSING', 'is required: set it to the name of the Key Vault secret holding the base64-encoded private key (or set MASKINPORTEN_VAULT_KEY or MASKINPORTEN_CERTIFICATE instead).')));
  const keySource = keySecretText !== undefined ? undefined : own === undefined ? inherit?.keySource : own === 'invalid' ? undefined : own;

  const kid = get('MASKINPORTEN_KID') ?? inherit?.kid;
  if (kid !== undefined && /\s/.test(kid)) r.fail(settingName('MASKINPORTEN_KID'), 'SETTING_BAD_VALUE', 'must not contain spaces.');

  const defaultTokenSecret = name === DEFAULT_PROFILE ? DEFAULT_TOKEN_SECRET : `${DEFAULT_TOKEN_SECRET}-${name.replace(/_/g, '-')}`;
  const tokenSecret = get('TOKEN_SECRET') === undefined
    ? defaultTokenSecret
    : r.secretName(settingName('TOKEN_SECRET'), get('TOKEN_SECRET'));

  const altinnExchange = r.bool(settingName('ALTINN_EXCHANGE'), get('ALTINN_EXCHANGE'), true);

  const resourceText = get('MASKINPORTEN_RESOURCE');
  const resource = resourceText === undefined ? undefined : splitList(resourceText);
  resource?.forEach((res) => {
    try {
      new URL(res);
    } catch {
      r.fail(settingName('MASKINPORTEN_RESOURCE'), 'SETTING_BAD_URL', 'must list absolute URIs (audience of the resource server), separated by spaces.');
    }
  });

  const consumerOrg = parseOrgNumber(r, settingName('MASKINPORTEN_CONSUMER_ORG'), get('MASKINPORTEN_CONSUMER_ORG'));
  const systemUserOrg = parseOrgNumber(r, settingName('ALTINN_SYSTEMUSER_ORG'), get('ALTINN_SYSTEMUSER_ORG'), true);
  const externalRef = get('ALTINN_SYSTEMUSER_EXTERNAL_REF');
  if (externalRef !== undefined && systemUserOrg === undefined && get('ALTINN_SYSTEMUSER_ORG') === undefined) {
    r.fail(settingName('ALTINN_SYSTEMUSER_EXTERNAL_REF'), 'SETTING_CONFLICT', 'needs ALTINN_SYSTEMUSER_ORG: set the system user\'s org number too, or remove this setting.');
  }

  const authRolesText = get('AUTH_ROLES');
  const authRoles = authRolesText === undefined ? undefined : splitList(authRolesText);

  if (clientId === undefined || scopes.length === 0 || (keySecret === undefined && keySource === undefined) || tokenSecret === undefined) return undefined;
  return Object.freeze({
    name,
    clientId,
    scopes: Object.freeze(scopes),
    ...(keySecret !== undefined && { keySecret }),
    ...(keySource !== undefined && { keySource }),
    ...(kid !== undefined && { kid }),
    tokenSecret,
    altinnExchange,
    ...(resource !== undefined && { resource: Object.freeze(resource) }),
    ...(consumerOrg !== undefined && { consumerOrg }),
    ...(systemUserOrg !== undefined && {
      systemUser: Object.freeze({ orgId: systemUserOrg, ...(externalRef !== undefined && { externalRef }) }),
    }),
    ...(authRoles !== undefined && { authRoles: Object.freeze(authRoles) }),
  });
}

const KEY_NAME = /^[a-zA-Z0-9][0-9a-zA-Z-]{0,126}$/;

/** MASKINPORTEN_VAULT_KEY / MASKINPORTEN_CERTIFICATE (with MASKINPORTEN_CERTIFICATE_CHAIN): at most one key source per
 *  profile. The vault URL is filled in by parseConfig. 'invalid': set, but wrong (the problem is recorded). */
function parseKeySource(
  r: Reader,
  get: (s: ProfileSetting) => string | undefined,
  settingName: (s: ProfileSetting) => string,
): KeySource | 'invalid' | undefined {
  const secret = get('MASKINPORTEN_KEY_SECRET');
  const vaultKey = get('MASKINPORTEN_VAULT_KEY');
  const certificate = get('MASKINPORTEN_CERTIFICATE');
  const chainText = get('MASKINPORTEN_CERTIFICATE_CHAIN');
  if (chainText !== undefined && certificate === undefined) {
    r.fail(settingName('MASKINPORTEN_CERTIFICATE_CHAIN'), 'SETTING_CONFLICT', 'needs MASKINPORTEN_CERTIFICATE: it lists the intermediate certificates of that certificate.');
  }
  const set = [['MASKINPORTEN_KEY_SECRET', secret], ['MASKINPORTEN_VAULT_KEY', vaultKey], ['MASKINPORTEN_CERTIFICATE', certificate]] as const;
  const chosen = set.filter(([, v]) => v !== undefined);
  if (chosen.length > 1) {
    for (const [s] of chosen.slice(1)) {
      r.fail(settingName(s), 'SETTING_CONFLICT', `cannot be combined with ${chosen[0]![0]}: a profile has exactly one key source (key secret, Key Vault key or certificate).`);
    }
    return 'invalid';
  }
  const name = vaultKey ?? certificate;
  if (name === undefined || secret !== undefined) return undefined;
  const setting = settingName(vaultKey !== undefined ? 'MASKINPORTEN_VAULT_KEY' : 'MASKINPORTEN_CERTIFICATE');
  if (!KEY_NAME.test(name)) {
    r.fail(setting, 'SETTING_BAD_VALUE', `is not a valid Key Vault ${vaultKey !== undefined ? 'key' : 'certificate'} name: use 1-127 letters, digits and dashes.`);
    return 'invalid';
  }
  if (vaultKey !== undefined) return { kind: 'vault-key', name, vaultUrl: '', local: false };
  const chain = chainText === undefined ? [] : splitList(chainText);
  for (const c of chain) {
    let ok = /^[A-Za-z0-9+/]+={0,2}$/.test(c);
    try {
      if (ok) new X509Certificate(Buffer.from(c, 'base64'));
    } catch {
      ok = false;
    }
    if (!ok) {
      r.fail(settingName('MASKINPORTEN_CERTIFICATE_CHAIN'), 'SETTING_BAD_VALUE', 'must list base64 DER certificates (intermediates, issuer of the leaf first), separated by spaces or commas.');
      return 'invalid';
    }
  }
  return { kind: 'certificate', name, chain: Object.freeze(chain), vaultUrl: '', local: false };
}

/** The vault URL belongs to the whole configuration (KEY_VAULT_URL); a key source gets it once that is known. */
function withVault(p: Profile, vaultUrl: string, local: boolean): Profile {
  return p.keySource ? Object.freeze({ ...p, keySource: Object.freeze({ ...p.keySource, vaultUrl, local }) }) : p;
}

function parseNamedProfiles(r: Reader, env: Env, base: Profile | undefined): Profile[] {
  const byName = new Map<string, Map<ProfileSetting, { key: string; value: string | undefined }>>();
  for (const key of Object.keys(env)) {
    const m = PROFILE_KEY.exec(key);
    if (!m) continue;
    const name = asciiLower(m[1]!);
    const setting = m[2]!.toUpperCase();
    if (!PROFILE_NAME.test(name) || name.length > MAX_PROFILE_NAME || name === DEFAULT_PROFILE) {
      r.fail(key, 'SETTING_BAD_PROFILE_NAME', `names an invalid profile "${name}": use lowercase letters, digits, "-" or "_" (not "default", at most 40).`);
      continue;
    }
    if (!(PROFILE_SETTINGS as readonly string[]).includes(setting)) {
      const guess = closest(setting, PROFILE_SETTINGS);
      r.fail(key, 'SETTING_UNKNOWN', `is not a profile setting${guess ? ` (did you mean \`PROFILE__${m[1]}__${guess}\`?)` : ''}: use one of ${PROFILE_SETTINGS.join(', ')}.`);
      continue;
    }
    const settings = byName.get(name) ?? new Map();
    settings.set(setting as ProfileSetting, { key, value: r.raw(key) });
    byName.set(name, settings);
  }
  const profiles: Profile[] = [];
  for (const [name, settings] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
    const profile = parseProfile(
      r,
      name,
      (s) => settings.get(s)?.value,
      (s) => settings.get(s)?.key ?? `PROFILE__${name}__${s}`,
      base,
    );
    if (profile) profiles.push(profile);
  }
  return profiles;
}

/** Reads the whole configuration; throws one ConfigError listing every problem found. */
export function parseConfig(env: Env): Config {
  const r = new Reader(env);

  const vault = r.url('KEY_VAULT_URL', r.required('KEY_VAULT_URL', 'your vault URI, e.g. https://my-vault.vault.azure.net'));

  const envText = (r.raw('MASKINPORTEN_ENV') ?? 'test').toLowerCase();
  const environment: Environment = envText === 'prod' || envText === 'test' ? envText : 'test';
  if (envText !== environment) r.fail('MASKINPORTEN_ENV', 'SETTING_BAD_VALUE', 'must be "test" or "prod".');

  const issuerUrl = r.url('MASKINPORTEN_ISSUER', r.raw('MASKINPORTEN_ISSUER'));
  const issuer = issuerUrl ? withTrailingSlash(issuerUrl.href) : ENVIRONMENTS[environment].issuer;
  const tokenUrl = r.url('MASKINPORTEN_TOKEN_URL', r.raw('MASKINPORTEN_TOKEN_URL'))?.href ?? `${issuer}token`;
  const altinnUrl = withoutTrailingSlash(
    r.url('ALTINN_URL', r.raw('ALTINN_URL'))?.href ?? ENVIRONMENTS[environment].altinnUrl,
  );

  const refreshSchedule = r.raw('REFRESH_SCHEDULE') ?? DEFAULT_REFRESH_SCHEDULE;
  validateSchedule(r, refreshSchedule);

  const refreshBeforeExpirySeconds = r.integer('REFRESH_BEFORE_EXPIRY_SECONDS', 600, 0, 86_400);
  const minTokenTtlSeconds = r.integer('MIN_TOKEN_TTL_SECONDS', 60, 0, 3_600);
  const minMintIntervalSeconds = r.integer('MIN_MINT_INTERVAL_SECONDS', 30, 1, 600);
  const maxTokenLifetimeSeconds = r.integer('MAX_TOKEN_LIFETIME_SECONDS', 7_200, 60, 86_400);
  checkRefreshTiming(r, { refreshSchedule, refreshBeforeExpirySeconds, minTokenTtlSeconds, minMintIntervalSeconds, maxTokenLifetimeSeconds });
  const httpTimeoutMs = r.integer('HTTP_TIMEOUT_MS', 10_000, 100, 120_000);
  const retryMaxAttempts = r.integer('RETRY_MAX_ATTEMPTS', 4, 1, 10);

  const base = parseProfile(r, DEFAULT_PROFILE, (s) => r.raw(s), (s) => s);
  const named = parseNamedProfiles(r, env, base);

  checkSecretConflicts([base, ...named].filter((p) => p !== undefined).map((p) => secretNames(p, base)), (s, c, m) => r.fail(s, c, m));
  checkUnknownSettings(env, (s, c, m) => r.fail(s, c, m));
  checkPlaceholders(env, r.problems);

  const tokenVault = r.url('TOKEN_VAULT_URL', r.raw('TOKEN_VAULT_URL'));
  const auth = parseCallerAuth(r, [base, ...named]);

  if (r.problems.length > 0 || !vault || !base) throw new ConfigError(r.problems);
  return Object.freeze({
    keyVaultUrl: withoutTrailingSlash(vault.href),
    localVault: vault.protocol === 'http:',
    tokenVaultUrl: withoutTrailingSlash((tokenVault ?? vault).href),
    localTokenVault: (tokenVault ?? vault).protocol === 'http:',
    ...(auth && { auth }),
    environment,
    issuer,
    tokenUrl,
    altinnUrl,
    refreshSchedule,
    refreshBeforeExpirySeconds,
    minTokenTtlSeconds,
    minMintIntervalSeconds,
    maxTokenLifetimeSeconds,
    httpTimeoutMs,
    retryMaxAttempts,
    profiles: Object.freeze([base, ...named].map((p) => withVault(p, withoutTrailingSlash(vault.href), vault.protocol === 'http:'))),
  });
}

/** A profile's secret names and the settings that give them (a named profile may inherit the key secret). */
function secretNames(p: Profile, base: Profile | undefined) {
  const named = p.name !== DEFAULT_PROFILE;
  const setting = (s: string) => (named ? `PROFILE__${p.name}__${s}` : s);
  // A certificate's secret of the same name holds its private key: it counts as a key secret here.
  const certificate = p.keySource?.kind === 'certificate' ? p.keySource.name : undefined;
  return {
    profile: p.name,
    keySecret: p.keySecret ?? certificate,
    keySetting:
      certificate !== undefined && p.keySecret === undefined
        ? named && base?.keySource?.name !== certificate ? setting('MASKINPORTEN_CERTIFICATE') : 'MASKINPORTEN_CERTIFICATE'
        : named && p.keySecret !== base?.keySecret ? `PROFILE__${p.name}__MASKINPORTEN_KEY_SECRET` : 'MASKINPORTEN_KEY_SECRET',
    tokenSecret: p.tokenSecret,
    tokenSetting: setting('TOKEN_SECRET'),
  };
}

export const ENTRA_AUTHORITY = 'https://login.microsoftonline.com';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROLE_VALUE = /^[\x21-\x7e]{1,120}$/;

/** AUTH_TENANT_ID turns caller authorization on; the other AUTH_* settings then have to be right, and without it
 *  they are refused (a half-configured authorization must not silently leave the token open to function keys). */
function parseCallerAuth(r: Reader, profiles: ReadonlyArray<Profile | undefined>): CallerAuthConfig | undefined {
  const tenantId = r.raw('AUTH_TENANT_ID');
  const audienceText = r.raw('AUTH_AUDIENCE');
  const authorityText = r.raw('AUTH_AUTHORITY');
  const roleSettings = profiles.flatMap((p) =>
    p?.authRoles ? [{ setting: p.name === DEFAULT_PROFILE ? 'AUTH_ROLES' : `PROFILE__${p.name}__AUTH_ROLES`, roles: p.authRoles }] : [],
  );
  for (const { setting, roles } of roleSettings) {
    if (roles.length === 0 || !roles.every((role) => ROLE_VALUE.test(role))) {
      r.fail(setting, 'SETTING_BAD_VALUE', 'must list Entra app role values (printable characters, no spaces), separated by spaces or commas.');
    }
  }
  if (tenantId === undefined) {
    for (const setting of [audienceText && 'AUTH_AUDIENCE', authorityText && 'AUTH_AUTHORITY', ...roleSettings.map((s) => s.setting)]) {
      if (setting) r.fail(setting, 'SETTING_CONFLICT', 'has no effect without AUTH_TENANT_ID: set AUTH_TENANT_ID (and AUTH_AUDIENCE) to turn caller authorization on, or remove this setting.');
    }
    return undefined;
  }
  if (!GUID.test(tenantId)) r.fail('AUTH_TENANT_ID', 'SETTING_BAD_VALUE', 'must be the Entra tenant id (a GUID, e.g. from `az account show --query tenantId`).');
  const audiences = audienceText === undefined ? [] : splitList(audienceText);
  if (audiences.length === 0) {
    r.fail('AUTH_AUDIENCE', 'SETTING_MISSING', "is required with AUTH_TENANT_ID: set it to the broker app registration's application ID URI (e.g. api://<client id>) and/or its client id.");
  }
  for (const aud of audiences) {
    if (!GUID.test(aud) && !/^[a-z][a-z0-9+.-]*:\S+$/i.test(aud)) {
      r.fail('AUTH_AUDIENCE', 'SETTING_BAD_VALUE', 'must list application ID URIs (e.g. api://<client id>) or client ids (GUIDs), separated by spaces or commas.');
      break;
    }
  }
  const authorityUrl = r.url('AUTH_AUTHORITY', authorityText ?? ENTRA_AUTHORITY);
  if (authorityUrl && (authorityUrl.pathname !== '/' || authorityUrl.search !== '' || authorityUrl.hash !== '')) {
    r.fail('AUTH_AUTHORITY', 'SETTING_BAD_VALUE', 'must be the authority host only, e.g. https://login.microsoftonline.com (the tenant comes from AUTH_TENANT_ID).');
    return undefined;
  }
  if (!authorityUrl || !GUID.test(tenantId) || audiences.length === 0) return undefined;
  return Object.freeze({ tenantId: tenantId.toLowerCase(), audiences: Object.freeze(audiences), authority: withoutTrailingSlash(authorityUrl.href) });
}

function validateSchedule(r: Reader, schedule: string): void {
  const fields = schedule.split(/\s+/);
  if (fields.length !== 6) {
    r.fail('REFRESH_SCHEDULE', 'SETTING_BAD_SCHEDULE', 'must be a 6-field NCRONTAB expression "{second} {minute} {hour} {day} {month} {day-of-week}", e.g. "0 */5 * * * *".');
    return;
  }
  try {
    new Cron(schedule, { paused: true, timezone: 'Etc/UTC' });
  } catch {
    r.fail('REFRESH_SCHEDULE', 'SETTING_BAD_SCHEDULE', 'is not a valid NCRONTAB expression: e.g. "0 */5 * * * *" runs every 5 minutes.');
  }
}

/** MIN_TOKEN_TTL_SECONDS, REFRESH_BEFORE_EXPIRY_SECONDS, the timer period, MIN_MINT_INTERVAL_SECONDS and
 *  MAX_TOKEN_LIFETIME_SECONDS against each other: the timer must refresh a token before requests find it too short,
 *  and no threshold may exceed the longest lifetime a token is allowed. */
function checkRefreshTiming(
  r: Reader,
  t: { refreshSchedule: string; refreshBeforeExpirySeconds: number; minTokenTtlSeconds: number; minMintIntervalSeconds: number; maxTokenLifetimeSeconds: number },
): void {
  const max = t.maxTokenLifetimeSeconds;
  if (t.minTokenTtlSeconds >= max) {
    r.fail('MIN_TOKEN_TTL_SECONDS', 'SETTING_CONFLICT', `(${t.minTokenTtlSeconds}) must be below MAX_TOKEN_LIFETIME_SECONDS (${max}): no token could ever meet it.`);
  }
  if (t.refreshBeforeExpirySeconds >= max) {
    r.fail('REFRESH_BEFORE_EXPIRY_SECONDS', 'SETTING_CONFLICT', `(${t.refreshBeforeExpirySeconds}) must be below MAX_TOKEN_LIFETIME_SECONDS (${max}): every token would always be due.`);
  }
  if (t.minMintIntervalSeconds >= max) {
    r.fail('MIN_MINT_INTERVAL_SECONDS', 'SETTING_CONFLICT', `(${t.minMintIntervalSeconds}) must be below MAX_TOKEN_LIFETIME_SECONDS (${max}) and below the shortest token lifetime you expect.`);
  }
  if (t.minTokenTtlSeconds > t.refreshBeforeExpirySeconds) {
    r.fail(
      'MIN_TOKEN_TTL_SECONDS',
      'SETTING_CONFLICT',
      `(${t.minTokenTtlSeconds}) must not exceed REFRESH_BEFORE_EXPIRY_SECONDS (${t.refreshBeforeExpirySeconds}): the timer must refresh a token before requests find it too short.`,
    );
  }
  const gap = longestTimerGapSeconds(t.refreshSchedule);
  if (gap !== undefined && t.refreshBeforeExpirySeconds < gap) {
    r.fail(
      'REFRESH_BEFORE_EXPIRY_SECONDS',
      'SETTING_CONFLICT',
      `(${t.refreshBeforeExpirySeconds}) must be at least the longest gap between REFRESH_SCHEDULE runs (${gap} s), or the stored token can expire between two runs: raise it or run the timer more often.`,
    );
  }
}

/** The longest gap between two runs of a valid 6-field schedule over its next runs (at most 50, or 8 days). */
export function longestTimerGapSeconds(schedule: string): number | undefined {
  let cron: Cron;
  try {
    if (schedule.split(/\s+/).length !== 6) return undefined;
    cron = new Cron(schedule, { paused: true, utcOffset: 0 }); // UTC, without the cost of Intl time zones
  } catch {
    return undefined;
  }
  const start = Date.UTC(2026, 0, 1);
  let prev = cron.nextRun(new Date(start));
  let longest = 0;
  for (let i = 0; prev && i < 50 && (i === 0 || prev.getTime() - start <= 8 * 86_400_000); i++) {
    const next = cron.nextRun(prev);
    if (!next) break;
    longest = Math.max(longest, (next.getTime() - prev.getTime()) / 1000);
    prev = next;
  }
  return longest > 0 ? Math.round(longest) : undefined;
}

function withTrailingSlash(s: string): string {
  return s.endsWith('/') ? s : `${s}/`;
}

function withoutTrailingSlash(s: string): string {
  return s.replace(/\/+$/, '');
}
