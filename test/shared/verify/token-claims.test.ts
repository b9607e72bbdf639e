// isoTime: no number from a token can make formatting a time throw (new Date(1e16).toISOString() would).
import { describe, expect, test } from '@jest/globals';
import { isoTime } from '../../../shared/verify/token-claims.js';

describe('isoTime', () => {
  test('formats a time as ISO 8601', () => {
    expect(isoTime(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(isoTime(1_800_000_600_000)).toBe('2027-01-15T08:10:00.000Z');
  });
  test('any other number gives a fixed text instead of a RangeError', () => {
    for (const n of [1e13 * 1000, -1e16, Number.NaN, Infinity, -Infinity]) expect(isoTime(n)).toBe('an invalid time');
  });
});
