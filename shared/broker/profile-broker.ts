// The refresh policy of one token profile: serve from memory while enough life is left, otherwise refresh once for
// all concurrent callers (single-flight): re-read the stored token (another instance may have refreshed it), else
// mint, verify, and store a new version. A stored token is adopted only when it verifies against its issuer's keys.
// A profile mints at most once per MIN_MINT_INTERVAL_SECONDS while it has a valid token. A failure never replaces a
// good token; it is served until it expires. A delayed vault write never replaces a newer stored token.
import { createHash } from 'node:crypto';
import type { Profile } from '../config/config.js';
import { BrokerError, NoValidTokenError, type BrokerErrorCode } from '../errors.js';
import type { GrantKey } from '../keys/signer.js';
import type { SigningKey } from '../keys/decode.js';
import { vaultSigningSource, type VaultSigningSource } from '../keys/key-source.js';
import { keyHealth, type KeyHealth } from '../keys/key-health.js';
import type { Logger } from '../logging.js';
import { decodeProfileKey, readKeySecret } from '../keys/profile-key.js';
import type { DroppableStore, DropResult, SecretStore } from '../vault/store.js';
import { isoTime } from '../verify/token-claims.js';
import { isJwtShaped, mintToken, type MintContext } from './mint.js';
import { TokenRejectedError, verifyToken } from '../verify/token-verify.js';
import { inRefreshSpan, refreshed, type RefreshTrigger } from '../telemetry/instruments.js';

export interface CachedToken {
  readonly token: string;
  readonly kind: 'altinn' | 'maskinporten';
  readonly expiresAt: number;
  readonly issuedAt: number;
  readonly scope: string;
  /** Where this instance got it: minted now, or read from the vault. */
  readonly source: 'minted' | 'vault';
}

export type RefreshOutcome = 'fresh' | 'adopted' | 'refreshed' | 'failed';

export interface ProfileStatus {
  readonly profile: string;
  readonly tokenSecret: string;
  readonly lastRefresh?: { readonly at: string; readonly outcome: RefreshOutcome; readonly errorCode?: BrokerErrorCode; readonly error?: string };
  readonly tokenExpiresAt?: string;
  readonly tokenSource?: CachedToken['source'];
  /** A minted token that could not be written to the vault yet (retried on the next run). */
  readonly storePending: boolean;
  readonly keyVersion?: string;
  /** The last key check (start-up or refresh) failed and no key has loaded since. */
  readonly keyCheck?: { readonly at: string; readonly outcome: 'failed'; readonly errorCode?: BrokerErrorCode; readonly error?: string };
  /** The key in use (source, name, version, kid or certificate subject, age, expiry, warning); never key material. */
  readonly key?: KeyHealth;
}

export interface BrokerPolicy {
  readonly refreshBeforeExpirySeconds: number;
  readonly minTokenTtlSeconds: number;
  /** MIN_MINT_INTERVAL_SECONDS: no second mint within this while a valid token is left. */
  readonly minMintIntervalSeconds: number;
  /** MAX_TOKEN_LIFETIME_SECONDS: a token claiming to live longer is refused. */
  readonly maxTokenLifetimeSeconds: number;
}

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
  private key?: { version: string; key: SigningKey };
  /** MASKINPORTEN_VAULT_KEY / MASKINPORTEN_CERTIFICATE: the key stays in the vault (keys/key-source.ts). */
  private readonly vaultSource?: VaultSigningSource;
  private unstored?: CachedToken;
  private last?: ProfileStatus['lastRefresh'];
  private keyProblem?: ProfileStatus['keyCheck'];
  /** ms since epoch; see getToken. */
  private retryNotBefore = 0;
  /** ms since epoch of the last successful mint. */
  private lastMintAt?: number;
  /** Stored versions already refused (each is logged once). */
  private readonly refusedVersions = new Set<string>();
  /** Thresholds a fresh token could not meet, each logged once. */
  private readonly shortNoted = new Set<string>();
  /** Identifies everything that changes the token (docs/protocol.md, Caching); stored as a tag. */
  readonly cacheKey: string;

  constructor(private readonly deps: ProfileBrokerDeps) {
    this.cacheKey = cacheKeyOf(deps.profile, deps.environment, deps.endpoints.issuer);
    this.vaultSource = vaultSigningSource(deps.profile, { now: deps.now, timeoutMs: 3 * deps.timeoutMs });
  }

  get profile(): Profile {
    return this.deps.profile;
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
    this.vaultSource?.recheck(); // a new key version is looked for once per timer run
    await this.flushUnstored(log, true);
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
    if (!this.current) await this.readStored(log);
  }

  /** Loads the key (or finds it unchanged); logs what is wrong instead of throwing. */
  async checkKey(log: Logger): Promise<boolean> {
    try {
      await this.loadKey(log);
      return true;
    } catch (err) {
      const code = err instanceof BrokerError ? err.code : 'unexpected';
      this.keyProblem = {
        at: new Date(this.deps.now()).toISOString(),
        outcome: 'failed',
        ...(err instanceof BrokerError && { errorCode: err.code, error: err.message }),
      };
      log.error(`[${this.deps.profile.name}] Key check failed (${code}): ${err instanceof Error ? err.message : 'unknown error'}`);
      return false;
    }
  }

  status(): ProfileStatus {
    const cur = this.current;
    return {
      profile: this.deps.profile.name,
      tokenSecret: this.deps.profile.tokenSecret,
      ...(this.last && { lastRefresh: this.last }),
      ...(cur && { tokenExpiresAt: isoTime(cur.expiresAt), tokenSource: cur.source }),
      storePending: this.unstored !== undefined,
      ...(this.key && { keyVersion: this.key.version }),
      ...(this.keyProblem && { keyCheck: this.keyProblem }),
      ...this.keyStatus(),
    };
  }

  private keyStatus(): { keyVersion?: string; key?: KeyHealth } {
    const { profile, now } = this.deps;
    const inUse = this.vaultSource
      ? this.vaultSource.inUse()
      : this.key && { source: 'secret' as const, name: profile.keySecret ?? '', version: this.key.version, kid: this.key.key.kid };
    return inUse ? { keyVersion: inUse.version, key: keyHealth(inUse, now()) } : {};
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
      const stored = await this.readStored(log);
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

  /** Reads the stored token; one for other settings is ignored, and so is one that fails verification (logged once
   *  per version, with the reason). Never throws: store errors are logged. */
  private async readStored(log: Logger): Promise<CachedToken | undefined> {
    const { profile, store } = this.deps;
    let secret;
    try {
      secret = await store.read(profile.tokenSecret);
    } catch (err) {
      log.warn(`[${profile.name}] Could not read secret "${profile.tokenSecret}" (${(err as Error).message}); minting a new token.`);
      return undefined;
    }
    if (!secret || secret.tags?.['cache-key'] !== this.cacheKey) return undefined;
    if (this.current?.token === secret.value) return this.current;
    const kind = profile.altinnExchange ? 'altinn' : 'maskinporten';
    const ignore = (reason: string): undefined => {
      if (!this.refusedVersions.has(secret.version)) {
        this.refusedVersions.add(secret.version);
        log.warn(`[${profile.name}] Ignoring the token in secret "${profile.tokenSecret}" (version ${secret.version}): ${reason}.`);
      }
      return undefined;
    };
    if (kind === 'maskinporten' && !isJwtShaped(secret.value)) return ignore('it is not a JWT (an opaque token is never adopted from the vault)');
    try {
      const facts = await verifyToken(secret.value, kind, profile, { ...this.deps, maxTokenLifetimeSeconds: this.deps.policy.maxTokenLifetimeSeconds }, 'stored token');
      const token: CachedToken = { token: secret.value, kind, ...facts, scope: facts.scope ?? profile.scopes.join(' '), source: 'vault' };
      if (!this.current || this.current.expiresAt < token.expiresAt) this.current = token;
      return token;
    } catch (err) {
      if (err instanceof TokenRejectedError) return ignore(err.reason);
      // the issuer's keys could not be fetched: not the token's fault, so not remembered as refused
      log.warn(`[${profile.name}] Could not verify the token in secret "${profile.tokenSecret}" (${err instanceof Error ? err.message : 'unknown error'}); not adopting it.`);
      return undefined;
    }
  }

  /** Reads the key secret and decodes it again only when its version changed (rotation without restart). */
  private async loadKey(log: Logger): Promise<GrantKey> {
    if (this.vaultSource) {
      const signer = await this.vaultSource.signer(log);
      this.keyProblem = undefined;
      return signer;
    }
    const { profile, store, keyStore } = this.deps;
    const secret = await readKeySecret(keyStore ?? store, profile);
    if (this.key?.version === secret.version) {
      this.keyProblem = undefined;
      return this.key.key;
    }
    const key = await decodeProfileKey(secret, profile, log);
    this.key = { version: secret.version, key };
    this.keyProblem = undefined;
    return key;
  }

  /** Writes the minted token not stored yet. A delayed write (`delayed`) first re-reads the vault: a valid token
   *  there that lives at least as long wins, and the pending one is dropped, so writes never go backwards. */
  /** Signs a grant, mints, verifies; the new token is served from now on and written to the vault (or kept pending). */
  private async mintAndStore(log: Logger): Promise<CachedToken> {
    const { profile } = this.deps;
    const key = await this.loadKey(log);
    const minted = await mintToken(profile, key, { ...this.deps, maxTokenLifetimeSeconds: this.deps.policy.maxTokenLifetimeSeconds }, log);
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
    this.unstored = token;
    await this.flushUnstored(log);
    return token;
  }

  private async flushUnstored(log: Logger, delayed = false): Promise<void> {
    const token = this.unstored;
    if (!token) return;
    const { profile, store, now } = this.deps;
    if (token.expiresAt <= now()) {
      this.unstored = undefined;
      return;
    }
    if (delayed) {
      const stored = await this.readStored(log);
      if (this.unstored !== token) return;
      if (stored && stored.token !== token.token && stored.expiresAt >= token.expiresAt) {
        this.unstored = undefined;
        log.info(`[${profile.name}] Secret "${profile.tokenSecret}" already holds a newer token; the pending write of an older one is dropped.`);
        return;
      }
    }
    try {
      const { version } = await store.writeToken(profile.tokenSecret, {
        token: token.token,
        expiresAt: token.expiresAt,
        issuedAt: token.issuedAt,
        tags: { profile: profile.name, 'client-id': profile.clientId, kind: token.kind, 'cache-key': this.cacheKey, issuer: 'maskinporten-broker' },
      });
      if (this.unstored === token) this.unstored = undefined;
      log.info(`[${profile.name}] Stored the token as secret "${profile.tokenSecret}" version ${version}.`);
    } catch (err) {
      log.warn(`[${profile.name}] ${(err as Error).message} The new token is served from memory; the write is retried on the next run.`);
    }
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
    const { profile, store, now } = this.deps;
    if (!isDroppable(store)) throw new BrokerError('STORE_REJECTED', `The token store of profile "${profile.name}" cannot drop secrets.`);
    await this.inflight?.catch(() => undefined);
    const dropped = this.current;
    const vault = await store.dropToken(profile.tokenSecret, { at: now(), tags: { profile: profile.name } });
    // A refresh that started while the vault was written may have adopted the old token: wait for it, then forget.
    await this.inflight?.catch(() => undefined);
    this.current = undefined;
    this.unstored = undefined;
    this.retryNotBefore = 0;
    this.lastMintAt = undefined;
    log.warn(`[${profile.name}] Dropped the cached token: tombstone version ${vault.version} on secret "${profile.tokenSecret}", ${vault.disabledVersions} version(s) with a valid token disabled, memory of this instance cleared.`);
    return { ...(dropped && { dropped }), vault };
  }
}

function isDroppable(store: SecretStore): store is DroppableStore {
  return typeof (store as Partial<DroppableStore>).dropToken === 'function';
}

/** Which caller a refresh is for: the timer (REFRESH_BEFORE_EXPIRY_SECONDS) or a token request. */
function triggerOf(setting: string): RefreshTrigger {
  return setting === 'REFRESH_BEFORE_EXPIRY_SECONDS' ? 'timer' : 'request';
}

/** A short hash of everything that changes a token: client, environment, sorted scopes, grant options, kind. */
export function cacheKeyOf(p: Profile, environment: string, issuer: string): string {
  const parts = [
    p.clientId,
    environment,
    issuer,
    [...p.scopes].sort().join(' '),
    [...(p.resource ?? [])].sort().join(' '),
    p.consumerOrg ?? '',
    p.systemUser?.orgId ?? '',
    p.systemUser?.externalRef ?? '',
    p.altinnExchange ? 'altinn' : 'maskinporten',
  ];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}
