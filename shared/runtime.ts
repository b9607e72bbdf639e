// Composition root: wires the real adapters (Key Vault store, global fetch, system clock) to one ProfileBroker per
// configured profile, once per process. Configuration is read here and only here; a bad one is kept and reported.
import { ProfileBroker, type ProfileStatus, type RefreshOutcome } from './broker.js';
import { DEFAULT_PROFILE, parseConfig, type Config } from './config.js';
import { BrokerError } from './errors.js';
import { KeyVaultStore } from './keyvault-store.js';
import type { Logger } from './logging.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import type { MintContext } from './token-source.js';
import type { SecretStore } from './store.js';
import type { FetchLike } from './upstream.js';

export interface RuntimeOverrides {
  readonly store?: SecretStore;
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

  constructor(readonly config: Config, overrides: RuntimeOverrides = {}) {
    const store = overrides.store ?? createStore(config);
    const mint = mintContext(config, overrides);
    this.brokers = new Map(
      config.profiles.map((profile) => [
        profile.name,
        new ProfileBroker({
          profile,
          environment: config.environment,
          policy: config,
          store,
          ...mint,
        }),
      ]),
    );
  }

  get profileNames(): string[] {
    return [...this.brokers.keys()];
  }

  broker(name: string = DEFAULT_PROFILE): ProfileBroker {
    const broker = this.brokers.get(name.toLowerCase());
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

  /** Status of every profile; on a fresh instance the stored tokens are read first (never minted). */
  async health(log: Logger): Promise<ProfileStatus[]> {
    await Promise.all([...this.brokers.values()].map((b) => b.peekStored(log)));
    return this.status();
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
      current = { runtime: new Runtime(parseConfig(process.env)) };
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
