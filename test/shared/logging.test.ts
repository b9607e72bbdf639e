// redact: tokens, grants, PEM blocks, JWK private members, bearer headers and long base64 never survive.
import { describe, expect, test } from '@jest/globals';
import { redact, registerSecret } from '../../shared/logging.js';
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

describe('redaction by value', () => {
  test('a registered value is redacted wherever it appears: plain, JSON-escaped, with escaped slashes', () => {
    const secret = 'opaque/token+value-0123456789';
    const line = `a ${secret} b ${JSON.stringify(JSON.stringify({ t: secret }))} c ${secret.replace(/\//g, '\\/')}`;
    expect(redact(line)).toContain(secret);
    registerSecret(secret);
    const out = redact(line);
    expect(out).not.toContain('opaque');
    expect(out.match(/\[REDACTED\]/g)).toHaveLength(3);
  });

  test('a flood of tokens never pushes a key out of the redaction list', () => {
    const keyMember = 'key-member-' + 'k'.repeat(40);
    registerSecret(keyMember, 'key');
    for (let i = 0; i < 5000; i++) registerSecret(`token-number-${i}-${'t'.repeat(20)}`);
    expect(redact(`member ${keyMember}`)).toBe('member [REDACTED]');
    expect(redact(`newest token-number-4999-${'t'.repeat(20)}`)).toBe('newest [REDACTED]');
    expect(redact(`oldest token-number-0-${'t'.repeat(20)}`)).toContain('token-number-0-'); // long expired, forgotten
  });

  test('short values are not registered (they could be ordinary words)', () => {
    registerSecret('default');
    expect(redact('profile default')).toBe('profile default');
  });
});
