// parseConfig: the refresh thresholds, the timer period, MIN_MINT_INTERVAL_SECONDS and MAX_TOKEN_LIFETIME_SECONDS
// are checked against each other, each conflict naming the setting at fault.
import { describe, expect, test } from '@jest/globals';
import { longestTimerGapSeconds, parseConfig } from '../../../shared/config/config.js';
import { ConfigError } from '../../../shared/errors.js';

const base = {
  KEY_VAULT_URL: 'https://kv-test.vault.azure.net/',
  MASKINPORTEN_CLIENT_ID: '2f1b8a4c-0000-4000-8000-000000000001',
  MASKINPORTEN_SCOPES: 'altinn:serviceowner',
  MASKINPORTEN_KEY_SECRET: 'maskinporten-key',
};

function problems(env: Record<string, string>): Array<{ setting: string; code: string; message: string }> {
  try {
    parseConfig({ ...base, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  return [];
}

describe('refresh timing settings', () => {
  test('defaults: a 30 s mint interval, a 2-hour lifetime limit', () => {
    expect(parseConfig(base)).toMatchObject({ minMintIntervalSeconds: 30, maxTokenLifetimeSeconds: 7200, minTokenTtlSeconds: 60, refreshBeforeExpirySeconds: 600 });
  });

  test('consistent thresholds above any token lifetime are accepted', () => {
    expect(parseConfig({ ...base, MIN_TOKEN_TTL_SECONDS: '3600', REFRESH_BEFORE_EXPIRY_SECONDS: '3900' })).toMatchObject({ minTokenTtlSeconds: 3600 });
  });

  test.each([
    ['MIN_MINT_INTERVAL_SECONDS', '0', /whole number from 1 to 600/],
    ['MIN_MINT_INTERVAL_SECONDS', 'soon', /whole number/],
    ['MAX_TOKEN_LIFETIME_SECONDS', '59', /whole number from 60 to 86400/],
  ])('%s=%s is SETTING_BAD_NUMBER', (setting, value, message) => {
    expect(problems({ [setting]: value })).toEqual([{ setting, code: 'SETTING_BAD_NUMBER', message: expect.stringMatching(message) }]);
  });

  test('MIN_TOKEN_TTL_SECONDS must not exceed REFRESH_BEFORE_EXPIRY_SECONDS', () => {
    expect(problems({ MIN_TOKEN_TTL_SECONDS: '601' })).toEqual([
      { setting: 'MIN_TOKEN_TTL_SECONDS', code: 'SETTING_CONFLICT', message: expect.stringMatching(/\(601\) must not exceed REFRESH_BEFORE_EXPIRY_SECONDS \(600\)/) },
    ]);
    expect(problems({ MIN_TOKEN_TTL_SECONDS: '600' })).toEqual([]);
  });

  test('REFRESH_BEFORE_EXPIRY_SECONDS must cover the longest gap between timer runs', () => {
    expect(problems({ REFRESH_SCHEDULE: '0 0 * * * *' })).toEqual([
      { setting: 'REFRESH_BEFORE_EXPIRY_SECONDS', code: 'SETTING_CONFLICT', message: expect.stringMatching(/\(600\) must be at least the longest gap between REFRESH_SCHEDULE runs \(3600 s\)/) },
    ]);
    expect(problems({ REFRESH_SCHEDULE: '0 0 * * * *', REFRESH_BEFORE_EXPIRY_SECONDS: '3600' })).toEqual([]);
    expect(problems({ REFRESH_SCHEDULE: '0 */10 * * * *' })).toEqual([]);
    expect(problems({ REFRESH_SCHEDULE: '0 0 0 1 1 *', REFRESH_BEFORE_EXPIRY_SECONDS: '3600' })).toEqual([
      expect.objectContaining({ setting: 'REFRESH_BEFORE_EXPIRY_SECONDS', message: expect.stringMatching(/31536000 s/) }),
    ]);
  });

  test('no threshold may reach MAX_TOKEN_LIFETIME_SECONDS', () => {
    expect(problems({ MAX_TOKEN_LIFETIME_SECONDS: '600', MIN_TOKEN_TTL_SECONDS: '600', REFRESH_BEFORE_EXPIRY_SECONDS: '600', MIN_MINT_INTERVAL_SECONDS: '600' })).toEqual([
      { setting: 'MIN_TOKEN_TTL_SECONDS', code: 'SETTING_CONFLICT', message: expect.stringMatching(/must be below MAX_TOKEN_LIFETIME_SECONDS \(600\)/) },
      { setting: 'REFRESH_BEFORE_EXPIRY_SECONDS', code: 'SETTING_CONFLICT', message: expect.stringMatching(/must be below MAX_TOKEN_LIFETIME_SECONDS \(600\)/) },
      { setting: 'MIN_MINT_INTERVAL_SECONDS', code: 'SETTING_CONFLICT', message: expect.stringMatching(/must be below MAX_TOKEN_LIFETIME_SECONDS \(600\)/) },
    ]);
  });

  test('the longest gap between timer runs', () => {
    expect(longestTimerGapSeconds('0 */5 * * * *')).toBe(300);
    expect(longestTimerGapSeconds('*/10 * * * * *')).toBe(10);
    expect(longestTimerGapSeconds('0 0 0 1 1 *')).toBe(365 * 86_400);
    expect(longestTimerGapSeconds('0 0,30 8-16 * * 1-5')).toBe(228_600); // Friday 16:30 to Monday 08:00
    expect(longestTimerGapSeconds('not a schedule')).toBeUndefined();
  });
});
