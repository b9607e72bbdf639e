// One logging port for the core and one redaction helper that every log line passes through, so that a token,
// grant, JWK private member or PEM block can never reach a log even by mistake.

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const PATTERNS: readonly RegExp[] = [
  // JWTs / JWS compact serialisations (tokens and grants)
  /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g,
  // PEM blocks
  /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g,
  // JWK private members
  /"(d|p|q|dp|dq|qi|k)"\s*:\s*"[^"]*"/g,
  // Bearer credentials
  /\bBearer\s+[A-Za-z0-9._~+/=-]+/gi,
  // long base64 blobs (e.g. a base64-encoded key)
  /[A-Za-z0-9+/_-]{200,}={0,2}/g,
];

/**
 * Exact secret values in play, newest last, in two pools so that a stream of short-lived tokens never pushes a
 * key out: keys (secret values, key text, private members) and tokens (grants, tokens received or read). Each pool
 * keeps its newest entries; the oldest are forgotten first (an old token has long expired).
 */
const SECRETS = { key: new Set<string>(), token: new Set<string>() };
const MAX_SECRETS = { key: 1000, token: 3000 };
/** Shorter values could be ordinary words; no real key member, grant or token is this short. */
const MIN_SECRET_LENGTH = 16;
/** Every registered form, longest first (so a secret that contains another is removed whole); rebuilt on change. */
let ordered: string[] | undefined;

/**
 * Adds an exact value the logger must never print, wherever it appears: inside escaped JSON, in a token that does
 * not look like a JWT, in a message from a library. Call it where a key is decoded (kind 'key'), a grant signed or
 * a token received (kind 'token').
 */
export function registerSecret(value: string | undefined, kind: 'key' | 'token' = 'token'): void {
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return;
  const pool = SECRETS[kind];
  for (const form of new Set([value, JSON.stringify(value).slice(1, -1), value.replace(/\//g, '\\/')])) {
    pool.delete(form);
    pool.add(form);
  }
  while (pool.size > MAX_SECRETS[kind]) pool.delete(pool.values().next().value as string);
  ordered = undefined;
}

export function redact(text: string): string {
  ordered ??= [...SECRETS.key, ...SECRETS.token].sort((a, b) => b.length - a.length);
  let out = text;
  for (const secret of ordered) {
    if (out.includes(secret)) out = out.split(secret).join('[REDACTED]');
  }
  return PATTERNS.reduce((acc, re) => acc.replace(re, '[REDACTED]'), out);
}

/** Wraps any logger so every line is redacted. */
export function redactingLogger(inner: Logger): Logger {
  return {
    info: (m) => inner.info(redact(m)),
    warn: (m) => inner.warn(redact(m)),
    error: (m) => inner.error(redact(m)),
  };
}
