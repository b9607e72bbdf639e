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

/** Exact secret values in play (keys, their private members, grants, tokens), newest last. */
const SECRETS = new Set<string>();
/** Enough for every profile's key and current tokens many times over; the oldest are forgotten first. */
const MAX_SECRETS = 2000;
/** Shorter values could be ordinary words; no real key member, grant or token is this short. */
const MIN_SECRET_LENGTH = 16;

/**
 * Adds an exact value the logger must never print, wherever it appears: inside escaped JSON, in a token that does
 * not look like a JWT, in a message from a library. Call it where a key is decoded, a grant signed, a token received.
 */
export function registerSecret(value: string | undefined): void {
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return;
  const forms = [value, JSON.stringify(value).slice(1, -1), value.replace(/\//g, '\\/')];
  for (const form of forms) {
    SECRETS.delete(form);
    SECRETS.add(form);
  }
  while (SECRETS.size > MAX_SECRETS) SECRETS.delete(SECRETS.values().next().value as string);
}

export function redact(text: string): string {
  let out = text;
  // Longest first, so a secret that contains another is removed whole.
  for (const secret of [...SECRETS].sort((a, b) => b.length - a.length)) {
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
