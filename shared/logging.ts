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

export function redact(text: string): string {
  return PATTERNS.reduce((acc, re) => acc.replace(re, '[REDACTED]'), text);
}

/** Wraps any logger so every line is redacted. */
export function redactingLogger(inner: Logger): Logger {
  return {
    info: (m) => inner.info(redact(m)),
    warn: (m) => inner.warn(redact(m)),
    error: (m) => inner.error(redact(m)),
  };
}
