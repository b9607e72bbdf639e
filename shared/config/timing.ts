// REFRESH_SCHEDULE and the refresh thresholds against each other and against the timer's longest gap.
import { Cron } from 'croner';
import type { Reader } from './reader.js';


export function validateSchedule(r: Reader, schedule: string): void {
  const fields = schedule.split(/\s+/);
  if (fields.length !== 6) {
    r.fail('REFRESH_SCHEDULE', 'SETTING_BAD_SCHEDULE', 'must be a 6-field NCRONTAB expression "{second} {minute} {hour} {day} {month} {day-of-week}", e.g. "0 */5 * * * *".');
    return;
  }
  try {
    new Cron(schedule, { paused: true, timezone: 'Etc/UTC' });
  } catch {
    r.fail('REFRESH_SCHEDULE', 'SETTING_BAD_SCHEDULE', 'is not a valid NCRONTAB expression: e.g. "0 */5 * * * *" runs every 5 minutes.');
  }
}

/** MIN_TOKEN_TTL_SECONDS, REFRESH_BEFORE_EXPIRY_SECONDS, the timer period, MIN_MINT_INTERVAL_SECONDS and
 *  MAX_TOKEN_LIFETIME_SECONDS against each other: the timer must refresh a token before requests find it too short,
 *  and no threshold may exceed the longest lifetime a token is allowed. */
export function checkRefreshTiming(
  r: Reader,
  t: { refreshSchedule: string; refreshBeforeExpirySeconds: number; minTokenTtlSeconds: number; minMintIntervalSeconds: number; maxTokenLifetimeSeconds: number },
): void {
  const max = t.maxTokenLifetimeSeconds;
  if (t.minTokenTtlSeconds >= max) {
    r.fail('MIN_TOKEN_TTL_SECONDS', 'SETTING_CONFLICT', `(${t.minTokenTtlSeconds}) must be below MAX_TOKEN_LIFETIME_SECONDS (${max}): no token could ever meet it.`);
  }
  if (t.refreshBeforeExpirySeconds >= max) {
    r.fail('REFRESH_BEFORE_EXPIRY_SECONDS', 'SETTING_CONFLICT', `(${t.refreshBeforeExpirySeconds}) must be below MAX_TOKEN_LIFETIME_SECONDS (${max}): every token would always be due.`);
  }
  if (t.minMintIntervalSeconds >= max) {
    r.fail('MIN_MINT_INTERVAL_SECONDS', 'SETTING_CONFLICT', `(${t.minMintIntervalSeconds}) must be below MAX_TOKEN_LIFETIME_SECONDS (${max}) and below the shortest token lifetime you expect.`);
  }
  if (t.minTokenTtlSeconds > t.refreshBeforeExpirySeconds) {
    r.fail(
      'MIN_TOKEN_TTL_SECONDS',
      'SETTING_CONFLICT',
      `(${t.minTokenTtlSeconds}) must not exceed REFRESH_BEFORE_EXPIRY_SECONDS (${t.refreshBeforeExpirySeconds}): the timer must refresh a token before requests find it too short.`,
    );
  }
  const gap = longestTimerGapSeconds(t.refreshSchedule);
  if (gap !== undefined && t.refreshBeforeExpirySeconds < gap) {
    r.fail(
      'REFRESH_BEFORE_EXPIRY_SECONDS',
      'SETTING_CONFLICT',
      `(${t.refreshBeforeExpirySeconds}) must be at least the longest gap between REFRESH_SCHEDULE runs (${gap} s), or the stored token can expire between two runs: raise it or run the timer more often.`,
    );
  }
}

/** The longest gap between two runs of a valid 6-field schedule over its next runs (at most 50, or 8 days). */
export function longestTimerGapSeconds(schedule: string): number | undefined {
  let cron: Cron;
  try {
    if (schedule.split(/\s+/).length !== 6) return undefined;
    cron = new Cron(schedule, { paused: true, utcOffset: 0 }); // UTC, without the cost of Intl time zones
  } catch {
    return undefined;
  }
  const start = Date.UTC(2026, 0, 1);
  let prev = cron.nextRun(new Date(start));
  let longest = 0;
  for (let i = 0; prev && i < 50 && (i === 0 || prev.getTime() - start <= 8 * 86_400_000); i++) {
    const next = cron.nextRun(prev);
    if (!next) break;
    longest = Math.max(longest, (next.getTime() - prev.getTime()) / 1000);
    prev = next;
  }
  return longest > 0 ? Math.round(longest) : undefined;
}
