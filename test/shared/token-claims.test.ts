// inspectToken: only a parsable JWT with a future exp passes.
import { describe, expect, test } from '@jest/globals';
import { UnsecuredJWT } from 'jose';
import { inspectToken, isoTime } from '../../shared/token-claims.js';

const now = 1_800_000_000_000;
const token = (claims: Record<string, unknown>) => new UnsecuredJWT(claims).encode();

describe('inspectToken', () => {
  test('reads exp, iat and scope in ms', () => {
    expect(inspectToken(token({ exp: 1_800_000_600, iat: 1_799_999_990, scope: 'a:b' }), now, 't')).toEqual({
      expiresAt: 1_800_000_600_000,
      issuedAt: 1_799_999_990_000,
      scope: 'a:b',
    });
  });
  test.each([
    ['not a JWT', 'opaque-token'],
    ['no exp', token({ iat: 1 })],
    ['expired', token({ exp: 1_799_999_999 })],
    ['exp is a string', token({ exp: '1800000600' })],
    ['exp beyond any date', token({ exp: 1e13 })],
  ])('%s is refused', (_name, t) => {
    expect(() => inspectToken(t, now, 'Altinn token')).toThrow(expect.objectContaining({ code: 'TOKEN_INVALID' }));
  });
});

describe('isoTime', () => {
  test('formats any number without throwing', () => {
    expect(isoTime(0)).toBe('1970-01-01T00:00:00.000Z');
    for (const n of [1e16, -1e16, Number.NaN, Infinity]) expect(isoTime(n)).toBe('an invalid time');
  });
});
