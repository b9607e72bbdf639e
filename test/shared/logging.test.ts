// redact: tokens, grants, PEM blocks, JWK private members, bearer headers and long base64 never survive.
import { describe, expect, test } from '@jest/globals';
import { redact } from '../../shared/logging.js';
import { b64, json, rsaKey } from '../helpers/keys.js';

const k = rsaKey();
const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

describe('redact', () => {
  test.each([
    ['a JWT', `token ${jwt} end`, jwt],
    ['a PEM block', `key ${k.pkcs8}`, k.pkcs8.split('\n')[1]!],
    ['a JWK private member', `jwk ${json(k.jwk)}`, String(k.jwk.d)],
    ['a bearer header', 'Authorization: Bearer abc.def-ghi', 'abc.def-ghi'],
    ['a base64 key', `value ${b64(json(k.jwk))}`, b64(json(k.jwk)).slice(0, 60)],
  ])('%s', (_name, text, secret) => {
    const out = redact(text);
    expect(out).not.toContain(secret);
    expect(out).toContain('[REDACTED]');
  });

  test('ordinary facts pass unchanged', () => {
    const line = '[default] Stored the token as secret "altinn-token" version 0123456789abcdef0123456789abcdef (MP-110, trace id abc123).';
    expect(redact(line)).toBe(line);
  });
});
