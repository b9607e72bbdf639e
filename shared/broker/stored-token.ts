// Mechanics: one profile's token secret in the vault. Reads the stored token and adopts it only when it is for these
// settings (the cache-key tag) and verifies against its issuer's keys; writes a minted token (kept pending when the
// vault cannot take it, and never written over a newer one); drops it for the operator. Knows nothing of when to
// refresh: that is the policy's (profile-broker.ts).
import { createHash } from 'node:crypto';
import type { Profile } from '../config/config.js';
import { BrokerError } from '../errors.js';
import type { Logger } from '../logging.js';
import { isJwtShaped } from './mint.js';
import { TokenRejectedError, verifyToken, type VerifierOptions } from '../verify/token-verify.js';
import type { DroppableStore, DropResult, SecretStore } from '../vault/store.js';
import type { CachedToken } from './types.js';

export interface StoredTokenDeps {
  readonly profile: Profile;
  readonly environment: string;
  readonly store: SecretStore;
  readonly verifier: VerifierOptions;
  /** The token the policy serves now: returned as it is when the vault holds the same token. */
  readonly current: () => CachedToken | undefined;
  /** Called with every stored token that verified: the policy decides whether it replaces what it serves. */
  readonly adopt: (token: CachedToken) => void;
}

export class StoredToken {
  /** Identifies everything that changes the token (docs/protocol.md, Caching); stored as a tag. */
  readonly cacheKey: string;
  /** A minted token not written to the vault yet. */
  private unstored?: CachedToken;
  /** Stored versions already refused (each is logged once). */
  private readonly refusedVersions = new Set<string>();

  constructor(private readonly deps: StoredTokenDeps) {
    this.cacheKey = cacheKeyOf(deps.profile, deps.environment, deps.verifier.endpoints.issuer);
  }

  get pending(): boolean {
    return this.unstored !== undefined;
  }

  /** Reads the stored token; one for other settings is ignored, and so is one that fails verification (logged once
   *  per version, with the reason). Never throws: store errors are logged. */
  async read(log: Logger): Promise<CachedToken | undefined> {
    const { profile, store, verifier } = this.deps;
    let secret;
    try {
      secret = await store.read(profile.tokenSecret);
    } catch (err) {
      log.warn(`[${profile.name}] Could not read secret "${profile.tokenSecret}" (${(err as Error).message}); minting a new token.`);
      return undefined;
    }
    if (!secret || secret.tags?.['cache-key'] !== this.cacheKey) return undefined;
    const current = this.deps.current();
    if (current?.token === secret.value) return current;
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
      const facts = await verifyToken(secret.value, kind, profile, verifier, 'stored token');
      const token: CachedToken = { token: secret.value, kind, ...facts, scope: facts.scope ?? profile.scopes.join(' '), source: 'vault' };
      this.deps.adopt(token);
      return token;
    } catch (err) {
      if (err instanceof TokenRejectedError) return ignore(err.reason);
      // the issuer's keys could not be fetched: not the token's fault, so not remembered as refused
      log.warn(`[${profile.name}] Could not verify the token in secret "${profile.tokenSecret}" (${err instanceof Error ? err.message : 'unknown error'}); not adopting it.`);
      return undefined;
    }
  }

  /** Writes a minted token now (kept pending when the vault cannot take it). */
  async write(token: CachedToken, log: Logger): Promise<void> {
    this.unstored = token;
    await this.flush(log, false);
  }

  /** Writes the minted token not stored yet. A delayed write (`delayed`) first re-reads the vault: a valid token
   *  there that lives at least as long wins, and the pending one is dropped, so writes never go backwards. */
  async flush(log: Logger, delayed: boolean): Promise<void> {
    const token = this.unstored;
    if (!token) return;
    const { profile, store, verifier } = this.deps;
    if (token.expiresAt <= verifier.now()) {
      this.unstored = undefined;
      return;
    }
    if (delayed) {
      const stored = await this.read(log);
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

  /** A tombstone on top of the token secret and the versions holding a still-valid token disabled; the pending
   *  write is forgotten. */
  async drop(): Promise<DropResult> {
    const { profile, verifier } = this.deps;
    return this.droppable().dropToken(profile.tokenSecret, { at: verifier.now(), tags: { profile: profile.name } });
  }

  /** The store, when it can drop secrets; throws STORE_REJECTED otherwise. */
  droppable(): DroppableStore {
    const { profile, store } = this.deps;
    if (!isDroppable(store)) throw new BrokerError('STORE_REJECTED', `The token store of profile "${profile.name}" cannot drop secrets.`);
    return store;
  }

  forgetPending(): void {
    this.unstored = undefined;
  }
}

function isDroppable(store: SecretStore): store is DroppableStore {
  return typeof (store as Partial<DroppableStore>).dropToken === 'function';
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
