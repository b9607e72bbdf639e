// Timer trigger: keeps every profile's token fresh in Key Vault, ahead of expiry, on REFRESH_SCHEDULE (NCRONTAB).
// Fails the invocation (so it shows in Application Insights) when any profile's refresh failed.
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { DEFAULT_REFRESH_SCHEDULE } from '../shared/config/defaults.js';
import { loadCore } from '../shared/load-core.js';

export async function refreshTimerHandler(timer: Timer, context: InvocationContext): Promise<void> {
  const { contextLogger, getRuntime } = await loadCore();
  const log = contextLogger(context);
  let runtime;
  try {
    runtime = getRuntime();
  } catch (err) {
    log.error((err as Error).message);
    throw err;
  }
  runtime.announce(log);
  if (timer.isPastDue) log.warn('The refresh timer is running late.');
  const reports = await runtime.refreshAll(log);
  log.info(`Refresh run: ${reports.map((r) => `${r.profile}=${r.outcome}`).join(', ')}.`);
  const failed = reports.filter((r) => r.outcome === 'failed').map((r) => r.profile);
  if (failed.length > 0) throw new Error(`Refresh failed for profile(s) ${failed.join(', ')}; see the log lines above.`);
}

export const refreshTimerOptions = {
  schedule: process.env.REFRESH_SCHEDULE?.trim() || DEFAULT_REFRESH_SCHEDULE,
  runOnStartup: false,
  handler: refreshTimerHandler,
};

app.timer('refreshTokens', refreshTimerOptions);
