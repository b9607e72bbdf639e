// withRetry: transient failures are retried within the attempt and time bounds; refusals never are.
import { describe, expect, test } from '@jest/globals';
import { UpstreamRejectedError, UpstreamUnavailableError } from '../../../shared/errors.js';
import { parseRetryAfter, withRetry } from '../../../shared/upstream/retry.js';

const policy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, maxTotalMs: 5_000 };
const unavailable = (retryAfterSeconds?: number) =>
  new UpstreamUnavailableError('MASKINPORTEN_UNAVAILABLE', 'down', { status: 503, ...(retryAfterSeconds !== undefined && { retryAfterSeconds }) });

function failing(errors: Error[]) {
  let calls = 0;
  return {
    calls: () => calls,
    fn: async () => {
      const err = errors[calls++];
      if (err) throw err;
      return 'ok';
    },
  };
}

describe('withRetry', () => {
  test('retries transient failures and reports each failed attempt once', async () => {
    const f = failing([unavailable(), unavailable()]);
    const seen: number[] = [];
    expect(await withRetry(f.fn, policy, (_e, n) => seen.push(n))).toBe('ok');
    expect(f.calls()).toBe(3);
    expect(seen).toEqual([1, 2]);
  });

  test('stops at the attempt limit without announcing a retry it will not make', async () => {
    const f = failing([unavailable(), unavailable(), unavailable(), unavailable()]);
    const seen: number[] = [];
    await expect(withRetry(f.fn, policy, (_e, n) => seen.push(n))).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(f.calls()).toBe(3);
    expect(seen).toEqual([1, 2]);
  });

  test('never retries a refusal', async () => {
    const f = failing([new UpstreamRejectedError('MASKINPORTEN_REJECTED', 'no', { status: 400 })]);
    await expect(withRetry(f.fn, policy)).rejects.toBeInstanceOf(UpstreamRejectedError);
    expect(f.calls()).toBe(1);
  });

  test('a Retry-After beyond the total time budget ends the retries at once', async () => {
    const f = failing([unavailable(60)]);
    const started = Date.now();
    await expect(withRetry(f.fn, { ...policy, maxTotalMs: 1_000 })).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(f.calls()).toBe(1);
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe('parseRetryAfter', () => {
  test.each([
    ['120', 120],
    ['0', 0],
    ['1.5', 2],
    ['Wed, 25 Nov 2026 12:00:30 GMT', 30],
    ['soon', undefined],
    ['', undefined],
  ])('%s', (value, expected) => {
    expect(parseRetryAfter(value, Date.UTC(2026, 10, 25, 12, 0, 0))).toBe(expected);
  });
  test('absent', () => expect(parseRetryAfter(null)).toBeUndefined());
});
