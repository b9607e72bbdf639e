// Retries a call on transient upstream failures (network errors, timeouts, 5xx, 429) with exponential backoff and
// full jitter, honouring Retry-After, bounded in attempts and total time. Definite refusals (4xx) are not retried.
import { backOff } from 'exponential-backoff';
import { UpstreamUnavailableError } from '../errors.js';

export interface RetryPolicy {
  /** Total attempts, including the first. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** No new attempt starts after this much time has passed since the first. */
  readonly maxTotalMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ attempts: 4, baseDelayMs: 250, maxDelayMs: 4_000, maxTotalMs: 20_000 });

export async function withRetry<T>(
  call: () => Promise<T>,
  policy: RetryPolicy,
  onRetry?: (err: UpstreamUnavailableError, failedAttempt: number) => void,
): Promise<T> {
  const started = Date.now();
  return backOff(call, {
    numOfAttempts: Math.max(1, policy.attempts),
    startingDelay: policy.baseDelayMs,
    maxDelay: policy.maxDelayMs,
    timeMultiple: 2,
    jitter: 'full',
    // called after each failure with the number of attempts made so far, also after the last one
    retry: async (err: unknown, attemptsMade: number) => {
      if (!(err instanceof UpstreamUnavailableError) || attemptsMade >= policy.attempts) return false;
      const waitMs = (err.facts.retryAfterSeconds ?? 0) * 1000;
      if (Date.now() - started + waitMs + policy.baseDelayMs > policy.maxTotalMs) return false;
      onRetry?.(err, attemptsMade);
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      return true;
    },
  });
}

/** Parses a Retry-After header (delta-seconds or HTTP date) into seconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - nowMs) / 1000));
}
