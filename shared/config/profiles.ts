// The token profiles: the default one from the top-level settings, named ones from PROFILE__<name>__<SETTING>
// (inheriting the default's client, key and kid), each with exactly one key source; and the profile a route names.
import { X509Certificate } from 'node:crypto';
import { asciiLower, closest } from './checks.js';
import { parseOrgNumber, splitList, type Env, type Reader } from './reader.js';
import { DEFAULT_PROFILE, DEFAULT_TOKEN_SECRET, type KeySource, type Profile } from './types.js';

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

export function parseProfile(
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
export function withVault(p: Profile, vaultUrl: string, local: boolean): Profile {
  return p.keySource ? Object.freeze({ ...p, keySource: Object.freeze({ ...p.keySource, vaultUrl, local }) }) : p;
}

export function parseNamedProfiles(r: Reader, env: Env, base: Profile | undefined): Profile[] {
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

/** A profile's secret names and the settings that give them (a named profile may inherit the key secret). */
export function secretNames(p: Profile, base: Profile | undefined) {
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
