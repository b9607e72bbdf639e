// Parses and validates the app's settings (environment variables / app settings) into a frozen Config.
// Pure: takes the environment as an argument. Every problem is collected and reported at once, naming the setting.
// The area: types.ts (the shapes), reader.ts (one setting), profiles.ts, caller-auth-settings.ts, timing.ts and
// checks.ts (settings against each other), defaults.ts (what the function modules need at load). It imports only
// errors.ts: every other area reads its settings from the Config this returns, never from process.env.
import { ConfigError } from '../errors.js';
import { parseCallerAuth } from './caller-auth-settings.js';
import { checkPlaceholders, checkSecretConflicts, checkUnknownSettings } from './checks.js';
import { DEFAULT_REFRESH_SCHEDULE } from './defaults.js';
import { parseNamedProfiles, parseProfile, secretNames, withVault } from './profiles.js';
import { Reader, withoutTrailingSlash, withTrailingSlash, type Env } from './reader.js';
import { checkRefreshTiming, validateSchedule } from './timing.js';
import { DEFAULT_PROFILE, ENVIRONMENTS, type Config, type Environment } from './types.js';

export { DEFAULT_REFRESH_SCHEDULE };
export * from './types.js';
export { isLoopback, splitList } from './reader.js';
export { PROFILE_SETTINGS, routeProfile } from './profiles.js';
export { ENTRA_AUTHORITY } from './caller-auth-settings.js';
export { longestTimerGapSeconds } from './timing.js';


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
