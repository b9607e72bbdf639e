// The JSON body of GET /api/token, serialised once per token and remaining second (a warm request only looks it up).
import type { CachedToken } from '../broker/types.js';

const bodies = new WeakMap<CachedToken, { expiresIn: number; body: string }>();

export function tokenResponseBody(token: CachedToken, nowMs: number): string {
  const expiresIn = Math.max(0, Math.floor((token.expiresAt - nowMs) / 1000));
  const cached = bodies.get(token);
  if (cached?.expiresIn === expiresIn) return cached.body;
  const body = JSON.stringify({
    access_token: token.token,
    token_type: 'Bearer',
    expires_in: expiresIn,
    expires_at: new Date(token.expiresAt).toISOString(),
    scope: token.scope,
  });
  bodies.set(token, { expiresIn, body });
  return body;
}
