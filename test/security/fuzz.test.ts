// Property tests (fast-check): the key decoder, the configuration parser and the parsers of upstream answers
// never throw anything but their own typed errors, and never echo their input.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { sign, verify } from 'node:crypto';
import { exchangeForAltinnToken } from '../../shared/altinn/exchange.js';
import { parseConfig } from '../../shared/config/config.js';
import { BrokerError, ConfigError, KeyError, UpstreamError } from '../../shared/errors.js';
import { decodeKey } from '../../shared/keys/decode.js';
import { requestMaskinportenToken } from '../../shared/maskinporten/token-endpoint.js';
import type { FetchLike } from '../../shared/upstream/http-client.js';
import { b64, json, rsaKey } from '../helpers/keys.js';

const KEY_CODES = [
  'KEY_EMPTY', 'KEY_NOT_BASE64', 'KEY_UNPARSABLE', 'KEY_PUBLIC_ONLY', 'KEY_NOT_RSA', 'KEY_TOO_SMALL',
  'KEY_KID_MISSING', 'KEY_KID_NOT_IN_JWKS', 'KEY_ALG_UNSUPPORTED',
];
const opts = { setting: 'MASKINPORTEN_KEY_SECRET', secretName: 'mp-key' };
const k = rsaKey('fuzz-TEST.1');

/** A distinctive run of the input that must not reappear in a message. */
function echoes(message: string, input: string): boolean {
  const probe = input.replace(/\s+/g, '');
  return probe.length >= 24 && message.includes(probe.slice(0, 24));
}

async function decodeOutcome(value: string, kid?: string): Promise<void> {
  try {
    await decodeKey(value, { ...opts, ...(kid !== undefined && { kid }) });
  } catch (err) {
    expect(err).toBeInstanceOf(KeyError);
    expect(KEY_CODES).toContain((err as KeyError).code);
    expect(echoes((err as Error).message, value)).toBe(false);
  }
}

const jwkLike = fc.record(
  {
    kty: fc.constantFrom('RSA', 'EC', 'oct', 'OKP', ''),
    kid: fc.string(),
    alg: fc.constantFrom('RS256', 'RS512', 'PS256', 'ES256', 'none'),
    n: fc.base64String(),
    e: fc.constantFrom('AQAB', 'Aw', ''),
    d: fc.base64String(),
    p: fc.base64String(),
    q: fc.base64String(),
  },
  { requiredKeys: [] },
);

describe('decodeKey on arbitrary input', () => {
  test('arbitrary strings', async () => {
    await fc.assert(fc.asyncProperty(fc.string({ maxLength: 400 }), (s) => decodeOutcome(s)), { numRuns: 300 });
  });

  test('base64 of arbitrary text, JSON and JWK-like objects, raw or as a JWKS', async () => {
    const text = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.json(),
      jwkLike.map((j) => json(j)),
      fc.array(jwkLike, { maxLength: 3 }).map((keys) => json({ keys })),
    );
    await fc.assert(
      fc.asyncProperty(text, fc.boolean(), fc.option(fc.string({ maxLength: 20 }), { nil: undefined }), (t, encode, kid) =>
        decodeOutcome(encode ? b64(t) : t, kid),
      ),
      { numRuns: 300 },
    );
  });

  // OpenSSL checks its CRT result and falls back to `d` (and the other way round), so a key with one corrupted
  // private member may still sign correctly. The property: refused with a KEY_ code, or its signatures verify.
  test('a real key with one member corrupted is refused or still signs verifiably', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('n', 'd', 'p', 'q', 'dp', 'dq', 'qi'), fc.base64String({ minLength: 4, maxLength: 40 }), async (member, value) => {
        const jwk = { ...k.jwk, [member]: value.replace(/=/g, '').replace(/\+/g, '-').replace(/\//g, '_') || 'AA' };
        let decoded;
        try {
          decoded = await decodeKey(json(jwk), opts);
        } catch (err) {
          expect((err as KeyError).code).toMatch(/^KEY_/);
          return;
        }
        const data = Buffer.from('probe');
        expect(verify('sha256', data, k.publicKey, sign('sha256', data, decoded.key))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});

describe('parseConfig on arbitrary settings', () => {
  const names = fc.constantFrom(
    'KEY_VAULT_URL', 'MASKINPORTEN_CLIENT_ID', 'MASKINPORTEN_SCOPES', 'MASKINPORTEN_KEY_SECRET', 'MASKINPORTEN_KID',
    'MASKINPORTEN_ENV', 'MASKINPORTEN_ISSUER', 'ALTINN_URL', 'TOKEN_SECRET', 'REFRESH_SCHEDULE', 'HTTP_TIMEOUT_MS',
    'ALTINN_EXCHANGE', 'MASKINPORTEN_CONSUMER_ORG', 'ALTINN_SYSTEMUSER_ORG', 'PROFILE__a__MASKINPORTEN_SCOPES',
    'PROFILE__B__TOKEN_SECRET', 'PROFILE__x y__FOO',
  );
  test('returns a frozen config or throws one ConfigError naming only settings it was given or requires', () => {
    fc.assert(
      fc.property(fc.dictionary(names, fc.string({ maxLength: 60 })), (env) => {
        try {
          expect(Object.isFrozen(parseConfig(env))).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          for (const p of (err as ConfigError).problems) {
            expect(p.code).toMatch(/^SETTING_/);
            expect(p.setting).toMatch(/^[A-Za-z_ ]+/);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('parsing upstream answers', () => {
  const answer = fc.record({
    status: fc.constantFrom(200, 400, 401, 403, 404, 410, 429, 500, 502, 503),
    body: fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json(),
      fc.record({ error: fc.string(), error_description: fc.string(), error_uri: fc.string() }).map((o) => json(o)),
      fc.record({ access_token: fc.oneof(fc.string(), fc.integer()), expires_in: fc.anything() }).map((o) => json(o)),
    ),
    retryAfter: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
  });
  const fake = (a: { status: number; body: string; retryAfter?: string }): FetchLike => async () =>
    new Response(a.status === 204 ? null : a.body, { status: a.status, headers: a.retryAfter === undefined ? {} : { 'retry-after': a.retryAfter } });

  test('Maskinporten: a token or an UpstreamError whose message does not echo the body', async () => {
    await fc.assert(
      fc.asyncProperty(answer, async (a) => {
        try {
          const t = await requestMaskinportenToken(fake(a), 'http://127.0.0.1:1/token', 'grant', 1000);
          expect(a.status).toBe(200);
          expect(typeof t.accessToken).toBe('string');
        } catch (err) {
          expect(err).toBeInstanceOf(UpstreamError);
          expect(echoes((err as Error).message, a.body)).toBe(false);
          const retryAfter = (err as UpstreamError).facts.retryAfterSeconds;
          if (retryAfter !== undefined) expect(Number.isFinite(retryAfter) && retryAfter >= 0).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  test('Altinn: a JWT-shaped token or an UpstreamError whose message does not echo the body', async () => {
    await fc.assert(
      fc.asyncProperty(answer, async (a) => {
        try {
          const t = await exchangeForAltinnToken(fake(a), 'http://127.0.0.1:1', 'mp-token', 1000);
          expect(t).toMatch(/^[\w-]+\.[\w-]+\.[\w-]*$/);
        } catch (err) {
          expect(err).toBeInstanceOf(BrokerError);
          expect(echoes((err as Error).message, a.body)).toBe(false);
        }
      }),
      { numRuns: 400 },
    );
  });
});
