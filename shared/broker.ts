// The refresh policy of one token profile: serve from memory while enough life is left, otherwise refresh once for
// all concurrent callers (single-flight): re-read the stored token (another instance may have refreshed it), else
// mint, validate, and store a new version. A failure never replaces a good token; it is served until it expires.
import { createHash } from 'node:crypto';
import type { Profile } from './config.js';
import { BrokerError, type BrokerErrorCode } from './errors.js';
import type { SigningKey } from './key.js';
import type { Logger } from './logging.js';
import { decodeProfileKey, readKeySecret } from './profile-key.js';
import type { SecretStore } from './store.js';
import { inspectToken } from './token-claims.js';
import { mintToken, type MintContext } from './token-source.js';

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
}

export interface BrokerPolicy {
  readonly refreshBeforeExpirySeconds: number;
  readonly minTokenTtlSeconds: number;
}

export interface ProfileBrokerDeps extends MintContext {
  readonly profile: Profile;
  readonly environment: string;
  readonly policy: BrokerPolicy;
  readonly store: SecretStore;
  /** Where the key secret is read (KEY_VAULT_URL) when tokens go to another vault; default `store`. */
  readonly keyStore?: SecretStore;
}

/** With nothing valid left to serve; `cause` says why the refresh failed. */
export class NoValidTokenError extends BrokerError {
  constructor(profile: string, cause: unknown) {
    super('NO_VALID_TOKEN', `No valid token for profile "${profile}": ${cause instanceof Error ? cause.message : 'refresh failed'}`, { cause });
  }
}

/** How long the last good token is served after a failed refresh before a request tries again. */
export const FAILED_REFRESH_PAUSE_MS = 10_000;

export class ProfileBroker {
  private current?: CachedToken;
  private inflight?: Promise<CachedToken>;
  private key?: { version: string; key: SigningKey };
  private unstored?: CachedToken;
  private last?: ProfileStatus['lastRefresh'];
  private keyProblem?: ProfileStatus['keyCheck'];
  /** ms since epoch; see getToken. */
  private retryNotBefore = 0;
  /** Identifies everything that changes the token (../shared/protocol.md §6); stored as a tag. */
  readonly cacheKey: string;

  constructor(private readonly deps: ProfileBrokerDeps) {
    this.cacheKey = cacheKeyOf(deps.profile, deps.environment, deps.endpoints.issuer);
  }

  get profile(): Profile {
    return this.deps.profile;
  }

  /** For GET /api/token: a token with at least minTtlSeconds left; a warm call does no I/O at all. */
  async getToken(log: Logger, minTtlSeconds = this.deps.policy.minTokenTtlSeconds): Promise<CachedToken> {
    const cur = this.current;
    const now = this.deps.now();
    if (cur && cur.expiresAt - now >= minTtlSeconds * 1000) return cur;
    // After a failed refresh, the last good token is served for a short while before the next attempt, so that a
    // stream of requests does not turn into a stream of calls to a service that is down.
    if (cur && cur.expiresAt > now && now < this.retryNotBefore) return cur;
    try {
      return await this.refresh(minTtlSeconds, log);
    } catch (err) {
      return this.lastGood(err, log);
    }
  }

  /** For the timer: refresh when less than refreshBeforeExpirySeconds is left; retry a pending vault write. */
  async refreshIfDue(log: Logger): Promise<RefreshOutcome> {
    await this.flushUnstored(log);
    const need = this.deps.policy.refreshBeforeExpirySeconds;
    const cur = this.current;
    if (cur && cur.expiresAt - this.deps.now() >= need * 1000) {
      this.record('fresh');
      return 'fresh';
    }
    try {
      const token = await this.refresh(need, log);
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
      ...(cur && { tokenExpiresAt: new Date(cur.expiresAt).toISOString(), tokenSource: cur.source }),
      storePending: this.unstored !== undefined,
      ...(this.key && { keyVersion: this.key.version }),
      ...(this.keyProblem && { keyCheck: this.keyProblem }),
    };
  }

  private async refresh(needSeconds: number, log: Logger): Promise<CachedToken> {
    if (this.inflight) {
      const shared = await this.inflight;
      if (shared.expiresAt - this.deps.now() >= needSeconds * 1000) return shared;
    }
    this.inflight ??= this.doRefresh(needSeconds, log).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async doRefresh(needSeconds: number, log: Logger): Promise<CachedToken> {
    const { profile, now } = this.deps;
    try {
      const stored = await this.readStored(log);
      if (stored && stored.expiresAt - now() >= needSeconds * 1000) {
        this.record('adopted');
        log.info(`[${profile.name}] Using the token in secret "${profile.tokenSecret}" (valid until ${new Date(stored.expiresAt).toISOString()}).`);
        return stored;
      }
      const key = await this.loadKey(log);
      const minted = await mintToken(profile, key, this.deps, log);
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
      this.record('refreshed');
      return token;
    } catch (err) {
      this.record('failed', err);
      throw err;
    }
  }

  /** Reads the stored token; a token for other settings, unparsable or expired is ignored. Store errors are logged. */
  private async readStored(log: Logger): Promise<CachedToken | undefined> {
    const { profile, store, now } = this.deps;
    let secret;
    try {
      secret = await store.read(profile.tokenSecret);
    } catch (err) {
      log.warn(`[${profile.name}] Could not read secret "${profile.tokenSecret}" (${(err as Error).message}); minting a new token.`);
      return undefined;
    }
    if (!secret || secret.tags?.['cache-key'] !== this.cacheKey) return undefined;
    try {
      const facts = inspectToken(secret.value, now(), 'stored token');
      const kind = secret.tags['kind'] === 'maskinporten' ? 'maskinporten' : 'altinn';
      const token: CachedToken = { token: secret.value, kind, ...facts, scope: facts.scope ?? profile.scopes.join(' '), source: 'vault' };
      if (!this.current || this.current.expiresAt < token.expiresAt) this.current = token;
      return token;
    } catch {
      return undefined;
    }
  }

  /** Reads the key secret and decodes it again only when its version changed (rotation without restart). */
  private async loadKey(log: Logger): Promise<SigningKey> {
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

  private async flushUnstored(log: Logger): Promise<void> {
    const token = this.unstored;
    if (!token) return;
    const { profile, store, now } = this.deps;
    if (token.expiresAt <= now()) {
      this.unstored = undefined;
      return;
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
      log.warn(`[${profile.name}] Refresh failed (${code}): ${(err as Error).message} Serving the last good token (valid until ${new Date(cur.expiresAt).toISOString()}).`);
      return cur;
    }
    log.error(`[${profile.name}] Refresh failed (${code}): ${err instanceof Error ? err.message : 'unknown error'}`);
    throw new NoValidTokenError(profile.name, err);
  }

  private record(outcome: RefreshOutcome, err?: unknown): void {
    this.last = {
      at: new Date(this.deps.now()).toISOString(),
      outcome,
      ...(err instanceof BrokerError && { errorCode: err.code }),
      ...(err instanceof Error && { error: err instanceof BrokerError ? err.message : 'unexpected error (see logs)' }),
    };
  }
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
