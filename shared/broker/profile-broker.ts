// The refresh policy of one token profile: serve from memory while enough life is left, otherwise refresh once for
// all concurrent callers (single-flight): adopt the stored token when it lasts (another instance may have refreshed
// it), else mint and store a new one. A profile mints at most once per MIN_MINT_INTERVAL_SECONDS while it has a valid
// token. A failure never replaces a good token; it is served until it expires, and requests after a failed refresh
// are served it for FAILED_REFRESH_PAUSE_MS before the next attempt.
// The mechanics live beside it: the key (grant-key.ts), the token secret (stored-token.ts), minting (mint.ts).
// This file decides when; those do how. The broker area imports the areas below it, never http/, callers/ or the
// composition root.
import type { Profile } from '../config/config.js';
import { BrokerError, NoValidTokenError } from '../errors.js';
import type { Logger } from '../logging.js';
import { inRefreshSpan, refreshed, type RefreshTrigger } from '../telemetry/instruments.js';
import type { DropResult, SecretStore } from '../vault/store.js';
import { isoTime } from '../verify/token-claims.js';
import { mintToken, type MintContext } from './mint.js';
import { ProfileGrantKey } from './grant-key.js';
import { StoredToken } from './stored-token.js';
import type { BrokerPolicy, CachedToken, ProfileStatus, RefreshOutcome } from './types.js';

export type { BrokerPolicy, CachedToken, ProfileStatus, RefreshOutcome } from './types.js';

export interface ProfileBrokerDeps extends MintContext {
  readonly profile: Profile;
  readonly environment: string;
  readonly policy: BrokerPolicy;
  readonly store: SecretStore;
  /** Where the key secret is read (KEY_VAULT_URL) when tokens go to another vault; default `store`. */
  readonly keyStore?: SecretStore;
}

/** How long the last good token is served after a failed refresh before a request tries again. */
export const FAILED_REFRESH_PAUSE_MS = 10_000;

export class ProfileBroker {
  private current?: CachedToken;
  private inflight?: Promise<CachedToken>;
  private last?: ProfileStatus['lastRefresh'];
  /** ms since epoch; see getToken. */
  private retryNotBefore = 0;
  /** ms since epoch of the last successful mint. */
  private lastMintAt?: number;
  /** Thresholds a fresh token could not meet, each logged once. */
  private readonly shortNoted = new Set<string>();
  private readonly key: ProfileGrantKey;
  private readonly stored: StoredToken;
  private readonly mintContext: MintContext;

  constructor(private readonly deps: ProfileBrokerDeps) {
    this.mintContext = { ...deps, maxTokenLifetimeSeconds: deps.policy.maxTokenLifetimeSeconds };
    this.key = new ProfileGrantKey({ profile: deps.profile, keyStore: deps.keyStore ?? deps.store, now: deps.now, timeoutMs: 3 * deps.timeoutMs });
    this.stored = new StoredToken({
      profile: deps.profile,
      environment: deps.environment,
      store: deps.store,
      verifier: this.mintContext,
      current: () => this.current,
      adopt: (token) => {
        if (!this.current || this.current.expiresAt < token.expiresAt) this.current = token;
      },
    });
  }

  get profile(): Profile {
    return this.deps.profile;
  }

  /** Identifies everything that changes the token (docs/protocol.md, Caching); stored as a tag. */
  get cacheKey(): string {
    return this.stored.cacheKey;
  }

  /** For GET /api/token: a token with at least minTtlSeconds left; a warm call does no I/O at all. */
  async getToken(log: Logger, minTtlSeconds = this.deps.policy.minTokenTtlSeconds): Promise<CachedToken> {
    const cur = this.current;
    const now = this.deps.now();
    if (cur && this.lastsFor(cur, minTtlSeconds, 'MIN_TOKEN_TTL_SECONDS', log)) return cur;
    // After a failed refresh, the last good token is served for a short while before the next attempt, so that a
    // stream of requests does not turn into a stream of calls to a service that is down.
    if (cur && cur.expiresAt > now && now < this.retryNotBefore) return cur;
    if (cur && this.holdBack(cur, 'MIN_TOKEN_TTL_SECONDS', log)) return cur;
    try {
      return await this.refresh(minTtlSeconds, 'MIN_TOKEN_TTL_SECONDS', log);
    } catch (err) {
      return this.lastGood(err, log);
    }
  }

  /** For the timer: refresh when less than refreshBeforeExpirySeconds is left; retry a pending vault write. */
  async refreshIfDue(log: Logger): Promise<RefreshOutcome> {
    this.key.recheck(); // a new key version is looked for once per timer run
    await this.stored.flush(log, true);
    const need = this.deps.policy.refreshBeforeExpirySeconds;
    const cur = this.current;
    if (cur && (this.lastsFor(cur, need, 'REFRESH_BEFORE_EXPIRY_SECONDS', log) || this.holdBack(cur, 'REFRESH_BEFORE_EXPIRY_SECONDS', log))) {
      this.record('fresh', undefined, 'timer');
      return 'fresh';
    }
    try {
      const token = await this.refresh(need, 'REFRESH_BEFORE_EXPIRY_SECONDS', log);
      return token.source === 'minted' ? 'refreshed' : 'adopted';
    } catch (err) {
      try {
        this.lastGood(err, log);
      } catch {
        // nothing valid left: already logged; the next run or request tries again
      }
      return 'failed';
    }
  }

  /** For health on a fresh instance: adopts the stored token (no minting) when nothing is in memory yet. */
  async peekStored(log: Logger): Promise<void> {
    if (!this.current) await this.stored.read(log);
  }

  /** Loads the key (or finds it unchanged); logs what is wrong instead of throwing. */
  checkKey(log: Logger): Promise<boolean> {
    return this.key.check(log);
  }

  status(): ProfileStatus {
    const cur = this.current;
    return {
      profile: this.deps.profile.name,
      tokenSecret: this.deps.profile.tokenSecret,
      ...(this.last && { lastRefresh: this.last }),
      ...(cur && { tokenExpiresAt: isoTime(cur.expiresAt), tokenSource: cur.source }),
      storePending: this.stored.pending,
      ...this.key.status(),
    };
  }

  private async refresh(needSeconds: number, setting: string, log: Logger): Promise<CachedToken> {
    if (this.inflight) {
      const shared = await this.inflight;
      if (this.lastsFor(shared, needSeconds, setting, log) || this.holdBack(shared, setting, log)) return shared;
    }
    this.inflight ??= inRefreshSpan(this.deps.profile.name, triggerOf(setting), () => this.doRefresh(needSeconds, setting, log)).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** Whether a token has enough life left: `needSeconds`, or half its lifetime when a fresh token cannot meet
   *  that (the issuer decides the lifetime; minting again would not help). */
  private lastsFor(token: CachedToken, needSeconds: number, setting: string, log: Logger): boolean {
    const lifetime = token.expiresAt - token.issuedAt;
    let needMs = needSeconds * 1000;
    if (needMs > lifetime / 2) {
      needMs = lifetime / 2;
      this.noteOnce(`half:${setting}`, log, `[${this.deps.profile.name}] Tokens live ${Math.round(lifetime / 1000)} s, less than twice ${setting} (${needSeconds}): a token is served until half its lifetime is left, then refreshed.`);
    }
    return token.expiresAt - this.deps.now() >= needMs;
  }

  /** A valid token is served rather than a second mint within MIN_MINT_INTERVAL_SECONDS. */
  private holdBack(token: CachedToken, setting: string, log: Logger): boolean {
    const now = this.deps.now();
    const interval = this.deps.policy.minMintIntervalSeconds;
    if (token.expiresAt <= now || this.lastMintAt === undefined || now - this.lastMintAt >= interval * 1000) return false;
    this.noteOnce(`interval:${setting}`, log, `[${this.deps.profile.name}] The token minted ${Math.round((now - this.lastMintAt) / 1000)} s ago does not meet ${setting} (${this.settingValue(setting)}); it is served, and no new token is minted within MIN_MINT_INTERVAL_SECONDS (${interval}).`);
    return true;
  }

  private settingValue(setting: string): number {
    const p = this.deps.policy;
    return setting === 'REFRESH_BEFORE_EXPIRY_SECONDS' ? p.refreshBeforeExpirySeconds : p.minTokenTtlSeconds;
  }

  private noteOnce(key: string, log: Logger, message: string): void {
    if (this.shortNoted.has(key)) return;
    this.shortNoted.add(key);
    log.warn(message);
  }

  private async doRefresh(needSeconds: number, setting: string, log: Logger): Promise<CachedToken> {
    const { profile } = this.deps;
    const trigger = triggerOf(setting);
    try {
      const stored = await this.stored.read(log);
      if (stored && this.lastsFor(stored, needSeconds, setting, log)) {
        this.record('adopted', undefined, trigger);
        log.info(`[${profile.name}] Using the token in secret "${profile.tokenSecret}" (valid until ${isoTime(stored.expiresAt)}).`);
        return stored;
      }
      const cur = this.current;
      if (cur && this.holdBack(cur, setting, log)) {
        this.record('fresh', undefined, trigger);
        return cur;
      }
      const token = await this.mintAndStore(log);
      this.record('refreshed', undefined, trigger);
      return token;
    } catch (err) {
      this.record('failed', err, trigger);
      throw err;
    }
  }

  /** Signs a grant, mints, verifies; the new token is served from now on and written to the vault (or kept pending). */
  private async mintAndStore(log: Logger): Promise<CachedToken> {
    const { profile } = this.deps;
    const key = await this.key.load(log);
    const minted = await mintToken(profile, key, this.mintContext, log);
    this.lastMintAt = this.deps.now();
    const token: CachedToken = {
      token: minted.token,
      kind: minted.kind,
      expiresAt: minted.expiresAt,
      issuedAt: minted.issuedAt,
      scope: minted.scope ?? profile.scopes.join(' '),
      source: 'minted',
    };
    this.current = token;
    await this.stored.write(token, log);
    return token;
  }

  private lastGood(err: unknown, log: Logger): CachedToken {
    const { profile, now } = this.deps;
    const code = err instanceof BrokerError ? err.code : 'unexpected';
    const cur = this.current;
    if (cur && cur.expiresAt > now()) {
      this.retryNotBefore = now() + FAILED_REFRESH_PAUSE_MS;
      log.warn(`[${profile.name}] Refresh failed (${code}): ${(err as Error).message} Serving the last good token (valid until ${isoTime(cur.expiresAt)}).`);
      return cur;
    }
    log.error(`[${profile.name}] Refresh failed (${code}): ${err instanceof Error ? err.message : 'unknown error'}`);
    throw new NoValidTokenError(profile.name, err);
  }

  private record(outcome: RefreshOutcome, err: unknown, trigger: RefreshTrigger): void {
    refreshed(this.deps.profile.name, trigger, outcome, err);
    this.last = {
      at: new Date(this.deps.now()).toISOString(),
      outcome,
      ...(err instanceof BrokerError && { errorCode: err.code }),
      ...(err instanceof Error && { error: err instanceof BrokerError ? err.message : 'unexpected error (see logs)' }),
    };
  }

  // ---------------------------------------------------------------- operator actions (POST /api/manage/...)

  /** Mints a new token now, however fresh the cached one is, and stores it (an operator asked: the stored token is
   *  not adopted and MIN_MINT_INTERVAL_SECONDS does not apply). Waits for a refresh in flight first; concurrent
   *  requests share this one. A failure keeps the last good token in memory and is thrown. */
  async forceRefresh(log: Logger): Promise<CachedToken> {
    await this.inflight?.catch(() => undefined);
    const { profile } = this.deps;
    const run = (async (): Promise<CachedToken> => {
      try {
        const token = await this.mintAndStore(log);
        this.retryNotBefore = 0;
        this.record('refreshed', undefined, 'operator');
        log.info(`[${profile.name}] Forced refresh: minted a new token (valid until ${isoTime(token.expiresAt)}).`);
        return token;
      } catch (err) {
        this.record('failed', err, 'operator');
        throw err;
      }
    })();
    const shared = run.finally(() => {
      if (this.inflight === shared) this.inflight = undefined;
    });
    this.inflight = shared;
    return shared;
  }

  /** Drops the cached token everywhere this instance can reach: a tombstone on top of the token secret and the
   *  versions holding a still-valid token disabled (the store), then this instance's memory, so that the next
   *  request or timer run mints anew. Other instances keep their memory copy until their own next refresh. */
  async dropToken(log: Logger): Promise<{ readonly dropped?: CachedToken; readonly vault: DropResult }> {
    const { profile } = this.deps;
    this.stored.droppable();
    await this.inflight?.catch(() => undefined);
    const dropped = this.current;
    const vault = await this.stored.drop();
    // A refresh that started while the vault was written may have adopted the old token: wait for it, then forget.
    await this.inflight?.catch(() => undefined);
    this.current = undefined;
    this.stored.forgetPending();
    this.retryNotBefore = 0;
    this.lastMintAt = undefined;
    log.warn(`[${profile.name}] Dropped the cached token: tombstone version ${vault.version} on secret "${profile.tokenSecret}", ${vault.disabledVersions} version(s) with a valid token disabled, memory of this instance cleared.`);
    return { ...(dropped && { dropped }), vault };
  }
}

/** Which caller a refresh is for: the timer (REFRESH_BEFORE_EXPIRY_SECONDS) or a token request. */
function triggerOf(setting: string): RefreshTrigger {
  return setting === 'REFRESH_BEFORE_EXPIRY_SECONDS' ? 'timer' : 'request';
}
