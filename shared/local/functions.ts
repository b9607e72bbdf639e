// The app's functions as the local host runs them: imported on call, after the settings are in place (the timer
// module reads REFRESH_SCHEDULE when it loads).
import type { HttpFunction, TimerFunction } from './host.js';

export async function loadFunctions(): Promise<{ http: HttpFunction[]; timers: TimerFunction[] }> {
  const [{ tokenOptions }, { healthOptions }, { healthDetailsOptions }, { refreshTimerOptions }] = await Promise.all([
    import('../../functions/token.js'),
    import('../../functions/health.js'),
    import('../../functions/health-details.js'),
    import('../../functions/refresh-timer.js'),
  ]);
  return {
    http: [
      { name: 'token', options: tokenOptions },
      { name: 'health', options: healthOptions },
      { name: 'healthDetails', options: healthDetailsOptions },
    ],
    timers: [{ name: 'refreshTokens', options: refreshTimerOptions }],
  };
}
