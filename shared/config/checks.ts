// Checks that span settings (called once from parseConfig): secret names that would collide in Key Vault, settings
// that look like ours but are not, and values still holding a placeholder from local.settings.example.json.
import type { ConfigProblem, ConfigProblemCode } from '../errors.js';

/**
 * Every top-level setting the app (or a part of it being added) reads. A name with one of our prefixes that is not
 * here, and not in DEPLOYMENT_SETTINGS, is reported as SETTING_UNKNOWN with the closest name from this list.
 */
export const KNOWN_SETTINGS: readonly string[] = Object.freeze([
  'KEY_VAULT_URL',
  'MASKINPORTEN_CLIENT_ID',
  'MASKINPORTEN_SCOPES',
  'MASKINPORTEN_KEY_SECRET',
  'MASKINPORTEN_KID',
  'MASKINPORTEN_ENV',
  'MASKINPORTEN_ISSUER',
  'MASKINPORTEN_TOKEN_URL',
  'MASKINPORTEN_RESOURCE',
  'MASKINPORTEN_CONSUMER_ORG',
  'MASKINPORTEN_VAULT_KEY',
  'MASKINPORTEN_CERTIFICATE',
  'MASKINPORTEN_CERTIFICATE_CHAIN',
  'ALTINN_URL',
  'ALTINN_EXCHANGE',
  'ALTINN_SYSTEMUSER_ORG',
  'ALTINN_SYSTEMUSER_EXTERNAL_REF',
  'TOKEN_SECRET',
  'TOKEN_VAULT_URL',
  'REFRESH_SCHEDULE',
  'REFRESH_BEFORE_EXPIRY_SECONDS',
  'MIN_TOKEN_TTL_SECONDS',
  'MIN_MINT_INTERVAL_SECONDS',
  'MAX_TOKEN_LIFETIME_SECONDS',
  'HTTP_TIMEOUT_MS',
  'RETRY_MAX_ATTEMPTS',
  'AUTH_TENANT_ID',
  'AUTH_AUDIENCE',
  'AUTH_AUTHORITY',
  'AUTH_ROLES',
]);

/**
 * Names the deployment (azd environment, GitHub variables, template outputs) uses that share our prefixes. The app
 * does not read them, but they may well be in the environment of someone running `npm run token`: tolerated.
 */
export const DEPLOYMENT_SETTINGS: readonly string[] = Object.freeze([
  'AUTH_CLIENT_ID',
  'KEY_VAULT_NAME',
  'KEY_VAULT_URI',
  'KEY_VAULT_RESOURCE_GROUP',
  'KEY_VAULT_READER_PRINCIPAL_IDS',
  'KEY_VAULT_READER_PRINCIPAL_TYPE',
  'KEY_VAULT_ADMIN_PRINCIPAL_ID',
  'KEY_VAULT_ADMIN_PRINCIPAL_TYPE',
  'MASKINPORTEN_KEY_SECRET_NAME',
  'MASKINPORTEN_VAULT_KEY_NAME',
  'MASKINPORTEN_CERTIFICATE_NAME',
  'TOKEN_SECRET_NAME',
  'TOKEN_ENDPOINT',
  'TOKEN_VAULT_NAME',
  'TOKEN_VAULT_URI',
  'TOKEN_VAULT_RESOURCE_GROUP',
  'TOKEN_SECRETS_CREATED',
]);

/** Prefixes only this app uses: any such name that is not known is reported. */
const OUR_PREFIXES = ['MASKINPORTEN_', 'ALTINN_', 'TOKEN_', 'REFRESH_', 'KEY_VAULT_', 'AUTH_', 'PROFILE_', 'RETRY_'];
/** Prefixes others use too (HTTP_PROXY, MAX_...): such a name is reported only when it is close to one of ours. */
const SHARED_PREFIXES = ['HTTP_', 'MIN_', 'MAX_'];

/** `<...>` as used by local.settings.example.json ("https://<your-vault>.vault.azure.net"). */
const PLACEHOLDER = /<[^<>\r\n]{1,80}>/;

type Fail = (setting: string, code: ConfigProblemCode, message: string) => void;

export interface SecretNames {
  readonly profile: string;
  /** The secret that holds the private key (for a certificate: the certificate's own secret); none for a vault key. */
  readonly keySecret?: string;
  readonly keySetting: string;
  readonly tokenSecret: string;
  readonly tokenSetting: string;
}

/**
 * Key Vault compares secret names case-insensitively: no token secret may name any profile's key secret (the token
 * would overwrite the private key), and no two profiles may share a token secret.
 */
export function checkSecretConflicts(profiles: readonly SecretNames[], fail: Fail): void {
  const keyOwners = new Map<string, SecretNames>();
  for (const p of profiles) if (p.keySecret !== undefined && !keyOwners.has(p.keySecret.toLowerCase())) keyOwners.set(p.keySecret.toLowerCase(), p);
  const tokenOwners = new Map<string, SecretNames>();
  for (const p of profiles) {
    const token = p.tokenSecret.toLowerCase();
    const keyOwner = p.keySecret?.toLowerCase() === token ? p : keyOwners.get(token);
    if (keyOwner) {
      fail(
        p.tokenSetting,
        'SETTING_CONFLICT',
        `"${p.tokenSecret}" names the private key secret "${keyOwner.keySecret}" (${keyOwner.keySetting}, profile "${keyOwner.profile}"; Key Vault ignores letter case): the token would overwrite the private key. Choose another token secret.`,
      );
      continue;
    }
    const other = tokenOwners.get(token);
    if (other) {
      fail(
        p.tokenSetting,
        'SETTING_CONFLICT',
        `"${p.tokenSecret}" is already used by profile "${other.profile}"${other.tokenSecret === p.tokenSecret ? '' : ` as "${other.tokenSecret}" (Key Vault ignores letter case)`}: give each profile its own token secret.`,
      );
      continue;
    }
    tokenOwners.set(token, p);
  }
}

/** Names with our prefixes that the app does not read: each reported with the closest known name. */
export function checkUnknownSettings(env: Readonly<Record<string, string | undefined>>, fail: Fail): void {
  const known = new Set([...KNOWN_SETTINGS, ...DEPLOYMENT_SETTINGS]);
  for (const name of Object.keys(env)) {
    if (known.has(name)) continue;
    const upper = name.toUpperCase();
    // A profile setting (PROFILE__<name>__<SETTING>) is checked where profiles are read.
    if (/^PROFILE__.+?__[A-Z_]+$/i.test(name)) continue;
    if (upper.startsWith('PROFILE_')) {
      fail(name, 'SETTING_UNKNOWN', 'looks like a profile setting but is not one: write it as PROFILE__<name>__<SETTING>, with two underscores on each side of the profile name.');
      continue;
    }
    const ours = OUR_PREFIXES.some((p) => upper.startsWith(p));
    const shared = SHARED_PREFIXES.some((p) => upper.startsWith(p));
    if (!ours && !shared) continue;
    // Where names are case-insensitive (Windows), the environment answers for the known name too: nothing is lost.
    const sameName = [...known].find((k) => k === upper);
    if (sameName !== undefined && env[sameName] === env[name]) continue;
    const suggestion = closest(upper, KNOWN_SETTINGS);
    if (suggestion === undefined && !ours) continue;
    fail(
      name,
      'SETTING_UNKNOWN',
      suggestion !== undefined
        ? `is not a setting this app reads: did you mean \`${suggestion}\`?${suggestion === upper ? ' Setting names are case-sensitive.' : ''}`
        : `is not a setting this app reads (misspelt?): see the settings table in README.md.`,
    );
  }
}

/** The closest name within a small edit distance (a typo, a missing or extra word part), if any. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    // A name cut short (MIN_TOKEN_TTL for MIN_TOKEN_TTL_SECONDS) or run on (MASKINPORTEN_ENVIRONMENT) counts as 1.
    const extends_ = Math.min(name.length, c.length) >= 8 && (c.startsWith(name) || name.startsWith(c));
    const d = extends_ && name !== c ? 1 : editDistance(name, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const allowed = Math.max(2, Math.floor(name.length / 4));
  return bestDistance <= allowed ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours each cost 1. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * Values of our settings that still hold a `<...>` placeholder from local.settings.example.json. Such a setting's
 * other problems (a URL that does not parse, a client id with spaces) are dropped: the placeholder is the cause.
 */
export function checkPlaceholders(env: Readonly<Record<string, string | undefined>>, problems: ConfigProblem[]): void {
  const known = new Set(KNOWN_SETTINGS);
  const found: ConfigProblem[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !(known.has(name) || /^PROFILE__.+?__[A-Z_]+$/i.test(name))) continue;
    const placeholder = PLACEHOLDER.exec(value)?.[0];
    if (placeholder === undefined) continue;
    found.push({
      setting: name,
      code: 'SETTING_PLACEHOLDER',
      message: `still holds the placeholder "${placeholder}" from local.settings.example.json: replace it with your own value.`,
    });
  }
  if (found.length === 0) return;
  const settings = new Set(found.map((p) => p.setting));
  const kept = problems.filter((p) => !settings.has(p.setting) || p.code === 'SETTING_UNKNOWN');
  problems.splice(0, problems.length, ...kept, ...found);
}

/** Lowercases A-Z only: profile names are ASCII, and Unicode case folding must not make two names one (K, U+212A). */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
