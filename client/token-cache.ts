// The consumer's token cache: answers from memory while more than the margin is left, one renewal for all
// concurrent callers, and a failed renewal never replaces a token that is still valid (it is served until expiry).

/** What getToken() resolves to. */
export interface AccessToken {
  readonly token: string;
  readonly expiresAt: Date;
}

export interface LoadedToken {
  readonly token: string;
  /** ms since epoch. */
  readonly expiresAtMs: number;
}

/** `hasFallback`: a still-valid token would be served if this load fails (so the loader need not wait). */
export type TokenLoader = (hasFallback: boolean) => Promise<LoadedToken>;

/** How long a still-valid token is served without a new attempt after a renewal failed, or when the source
 *  itself only had a token inside the margin (so that callers do not turn into one load per call). */
export const RENEWAL_PAUSE_MS = 5_000;

export class TokenCache {
  #current?: LoadedToken;
  #inflight?: Promise<AccessToken>;
  #pauseUntil = 0;

  constructor(
    private readonly load: TokenLoader,
    private readonly marginMs: number,
    private readonly now: () => number,
  ) {}

  get(): Promise<AccessToken> {
    const cur = this.#current;
    const now = this.now();
    if (cur && cur.expiresAtMs - now > this.marginMs) return Promise.resolve(view(cur));
    if (cur && cur.expiresAtMs > now && now < this.#pauseUntil) return Promise.resolve(view(cur));
    this.#inflight ??= this.renew().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  /** Drops `token` (e.g. after the API it was sent to answered 401), unless a newer one replaced it already. */
  invalidate(token: string): void {
    if (this.#current?.token === token) {
      this.#current = undefined;
      this.#pauseUntil = 0;
    }
  }

  private async renew(): Promise<AccessToken> {
    const valid = (t: LoadedToken | undefined): t is LoadedToken => t !== undefined && t.expiresAtMs > this.now();
    try {
      const loaded = await this.load(valid(this.#current));
      this.#current = loaded;
      const now = this.now();
      this.#pauseUntil = loaded.expiresAtMs - now > this.marginMs ? 0 : now + RENEWAL_PAUSE_MS;
      return view(loaded);
    } catch (err) {
      const cur = this.#current;
      if (!valid(cur)) throw err;
      const retryAfter = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
      const pause = typeof retryAfter === 'number' ? Math.max(retryAfter * 1000, RENEWAL_PAUSE_MS) : RENEWAL_PAUSE_MS;
      this.#pauseUntil = this.now() + pause;
      return view(cur);
    }
  }
}

function view(t: LoadedToken): AccessToken {
  return { token: t.token, expiresAt: new Date(t.expiresAtMs) };
}
