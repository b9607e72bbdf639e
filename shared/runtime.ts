// Composition root: wires the real adapters (Key Vault store, global fetch, system clock) to one ProfileBroker per
// configured profile, once per process. Configuration is read here and only here; a bad one is kept and reported.
import { ProfileBroker, type ProfileStatus, type RefreshOutcome } from './broker/profile-broker.js';
import { CallerAuth } from './callers/caller-auth.js';
import { DEFAULT_PROFILE, parseConfig, type Config } from './config/config.js';
import { BrokerError } from './errors.js';
import { KeyVaultStore } from './vault/keyvault-store.js';
import type { Logger } from './logging.js';
import { DEFAULT_RETRY, type RetryPolicy } from './upstream/retry.js';
import type { MintContext } from './broker/mint.js';
import type { SecretStore } from './vault/store.js';
import type { FetchLike } from './upstream/http-client.js';
import { observeProfiles } from './telemetry/instruments.js';

export interface RuntimeOverrides {
  /** The token store (and the key store too, unless keyStore is given). */
  readonly store?: SecretStore;
  readonly keyStore?: SecretStore;
  /** The process environment, for start-up warnings that depend on where the app runs (WEBSITE_SITE_NAME). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Minimum time between two JWKS fetches for an unknown kid (tests); default 30 s. */
  readonly jwksCooldownMs?: number;
  readonly fetch?: FetchLike;
  readonly now?: () => number;
  readonly retry?: Partial<RetryPolicy>;
}

export interface RefreshReport {
  readonly profile: string;
  readonly outcome: RefreshOutcome;
}

/** The Key Vault store for a configuration. */
export function createStore(config: Config): SecretStore {
  return new KeyVaultStore({ vaultUrl: config.keyVaultUrl, local: config.localVault, timeoutMs: 3 * config.httpTimeoutMs });
}

/** The stores for tokens (TOKEN_VAULT_URL) and for the key (KEY_VAULT_URL): one store when they are the same vault. */
export function createStores(config: Config): { tokenStore: SecretStore; keyStore: SecretStore } {
  const keyStore = createStore(config);
  if (config.tokenVaultUrl === config.keyVaultUrl) return { tokenStore: keyStore, keyStore };
  const tokenStore = new KeyVaultStore({ vaultUrl: config.tokenVaultUrl, local: config.localTokenVault, timeoutMs: 3 * config.httpTimeoutMs, setting: 'TOKEN_VAULT_URL' });
  return { tokenStore, keyStore };
}

/** Health reads a profile's stored token from the vault at most this often (when nothing is in memory). */
export const HEALTH_VAULT_READ_INTERVAL_MS = 60_000;

export type OverallStatus = 'ok' | 'degraded' | 'failing';

/** ok; degraded: a refresh or key check failed but every such profile still serves a valid token; failing: one
 *  cannot serve. From memory only. */
export function overallStatus(profiles: readonly ProfileStatus[], now: number): OverallStatus {
  const valid = (p: ProfileStatus) => p.tokenExpiresAt !== undefined && Date.parse(p.tokenExpiresAt) > now;
  const troubled = profiles.filter((p) => p.lastRefresh?.outcome === 'failed' || p.keyCheck !== undefined);
  if (troubled.some((p) => !valid(p))) return 'failing';
  // A key or certificate near its expiry (or too old) still signs: worth a look, not an outage.
  return troubled.length > 0 || profiles.some((p) => p.key?.warning !== undefined) ? 'degraded' : 'ok';
}

/** Warnings worth a line at start-up: caller authorization off; in Azure, tokens written to the key's vault. */
export function startupWarnings(config: Config, env: Readonly<Record<string, string | undefined>>): string[] {
  const warnings: string[] = [];
  if (!config.auth) {
    warnings.push('Caller authorization is off (AUTH_TENANT_ID is not set): whoever holds a function key gets every profile\'s token. Set AUTH_TENANT_ID and AUTH_AUDIENCE to require Entra ID app roles per profile (README, "App roles").');
  }
  if (env.WEBSITE_SITE_NAME && config.tokenVaultUrl === config.keyVaultUrl) {
    warnings.push('TOKEN_VAULT_URL is not set (or equals KEY_VAULT_URL): tokens are written to the vault that holds the private key, so whoever may read tokens there may be able to read the key. Set TOKEN_VAULT_URL to a second vault.');
  }
  return warnings;
}

/** Endpoints, fetch, clock, timeout and retry policy for minting, from a configuration. */
export function mintContext(config: Config, overrides: RuntimeOverrides = {}): MintContext {
  return {
    endpoints: { issuer: config.issuer, tokenUrl: config.tokenUrl, altinnUrl: config.altinnUrl },
    fetch: overrides.fetch ?? ((url, init) => fetch(url, init)),
    now: overrides.now ?? Date.now,
    timeoutMs: config.httpTimeoutMs,
    retry: { ...DEFAULT_RETRY, attempts: config.retryMaxAttempts, ...overrides.retry },
    maxTokenLifetimeSeconds: config.maxTokenLifetimeSeconds,
  };
}

export class Runtime {
  private readonly brokers: ReadonlyMap<string, ProfileBroker>;
  /** Undefined when caller authorization is off. */
  readonly callerAuth?: CallerAuth;
  readonly warnings: readonly string[];
  private announced = false;
  private readonly lastHealthRead = new Map<string, number>();
  private readonly now: () => number;

  constructor(readonly config: Config, overrides: RuntimeOverrides = {}) {
    const stores = overrides.store ? { tokenStore: overrides.store, keyStore: overrides.keyStore ?? overrides.store } : createStores(config);
    const store = stores.tokenStore;
    const keyStore = stores.keyStore;
    const mint = mintContext(config, overrides);
    this.now = mint.now;
    this.warnings = Object.freeze(startupWarnings(config, overrides.env ?? {}));
    if (config.auth) {
      this.callerAuth = new CallerAuth(config.auth, {
        now: mint.now,
        ...(overrides.fetch && { fetch: overrides.fetch }),
        ...(overrides.jwksCooldownMs !== undefined && { cooldownMs: overrides.jwksCooldownMs }),
      });
    }
    this.brokers = new Map(
      config.profiles.map((profile) => [
        profile.name,
        new ProfileBroker({
          profile,
          environment: config.environment,
          policy: config,
          store,
          keyStore,
          ...mint,
        }),
      ]),
    );
    observeProfiles(() => this.status(), this.now, this.profileNames);
  }

  get profileNames(): string[] {
    return [...this.brokers.keys()];
  }

  broker(name: string = DEFAULT_PROFILE): ProfileBroker {
    const broker = this.brokers.get(name.replace(/[A-Z]/g, (c) => c.toLowerCase()));
    if (!broker) {
      throw new BrokerError('PROFILE_NOT_FOUND', `There is no token profile "${name}". Configured profiles: ${this.profileNames.join(', ')}.`);
    }
    return broker;
  }

  /** The timer's work: every profile, independently; one failing does not stop the others. */
  async refreshAll(log: Logger): Promise<RefreshReport[]> {
    return Promise.all(
      [...this.brokers.values()].map(async (b) => ({ profile: b.profile.name, outcome: await b.refreshIfDue(log) })),
    );
  }

  /** Start-up check: reads and decodes every profile's key now, so a bad key is reported before the first request. */
  async checkKeys(log: Logger): Promise<boolean> {
    const results = await Promise.all([...this.brokers.values()].map((b) => b.checkKey(log)));
    return results.every(Boolean);
  }

  /** Logs the start-up warnings once per runtime (the local host at start-up; in Azure the first invocation). */
  announce(log: Logger): void {
    if (this.announced) return;
    this.announced = true;
    const auth = this.config.auth;
    if (auth) {
      log.info(`Caller authorization is on: Entra ID tenant ${auth.tenantId}, audience ${auth.audiences.join(' ')}, authority ${auth.authority}; the token routes need an app role (Tokens.Read.All, Tokens.Read.<profile> or the profile's AUTH_ROLES), the health details Health.Read.`);
    }
    for (const w of this.warnings) log.warn(w);
  }

  /** Status of every profile for the health details; on a fresh instance the stored tokens are read first (never
   *  minted), at most once per profile per HEALTH_VAULT_READ_INTERVAL_MS whatever the request rate. */
  async health(log: Logger): Promise<ProfileStatus[]> {
    const now = this.now();
    await Promise.all(
      [...this.brokers.values()].map(async (b) => {
        const last = this.lastHealthRead.get(b.profile.name);
        if (last !== undefined && now - last < HEALTH_VAULT_READ_INTERVAL_MS) return;
        this.lastHealthRead.set(b.profile.name, now);
        await b.peekStored(log);
      }),
    );
    return this.status();
  }

  /** The overall status from memory only: no vault call. */
  overall(): OverallStatus {
    return overallStatus(this.status(), this.now());
  }

  status(): ProfileStatus[] {
    return [...this.brokers.values()].map((b) => b.status());
  }
}

let current: { runtime: Runtime } | { error: unknown } | undefined;

/** The process-wide runtime, built from process.env on first use. Throws the ConfigError on every call if invalid. */
export function getRuntime(): Runtime {
  if (!current) {
    try {
      current = { runtime: new Runtime(parseConfig(process.env), { env: process.env }) };
    } catch (error) {
      current = { error };
    }
  }
  if ('error' in current) throw current.error;
  return current.runtime;
}

/** Replaces the process-wide runtime (tests, the local host after reloading settings). */
export function setRuntime(runtime: Runtime | undefined): void {
  current = runtime ? { runtime } : undefined;
}
