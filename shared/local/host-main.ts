// `npm run host`: runs this Functions app locally without Core Tools. Settings come from the environment, then
// local.settings.json `Values` for anything the environment does not set. Stops cleanly on SIGINT/SIGTERM.
import { startHost, type LogSink } from './host.js';
import { loadFunctions } from './functions.js';
import { loadLocalSettings } from './settings.js';
import { redactingLogger } from '../logging.js';

const log: LogSink = (level, fn, message) => {
  const stream = level === 'error' || level === 'warning' ? process.stderr : process.stdout;
  stream.write(`${new Date().toISOString()} [${level}] ${fn}: ${message}\n`);
};

async function main(): Promise<void> {
  const settingsFile = loadLocalSettings();
  const functions = await loadFunctions();
  log('information', 'host', 'The @azure/functions "test mode" warnings above are expected outside the Azure Functions host.');
  const { getRuntime } = await import('../runtime.js');
  try {
    const startup = redactingLogger({
      info: (m) => log('information', 'startup', m),
      warn: (m) => log('warning', 'startup', m),
      error: (m) => log('error', 'startup', m),
    });
    const runtime = getRuntime();
    runtime.announce(startup);
    void runtime.checkKeys(startup);
  } catch (err) {
    log('error', 'host', `${(err as Error).message}\nThe functions will answer with this problem until the settings are fixed.`);
  }
  const port = Number(process.env.PORT ?? 7071);
  const host = await startHost({
    port,
    ...(process.env.HOST && { host: process.env.HOST }),
    ...functions,
    log,
  });
  log('information', 'host', `Settings: environment${settingsFile ? ` + ${settingsFile}` : ''}.`);
  log('information', 'host', `token: [GET] ${host.url}/api/token/{profile?}`);
  log('information', 'host', `health: [GET] ${host.url}/api/health`);
  log('information', 'host', `healthDetails: [GET] ${host.url}/api/health/details`);
  log('information', 'host', `refreshTokens: timer "${functions.timers[0]!.options.schedule}" (UTC); run now: curl -X POST ${host.url}/admin/functions/refreshTokens`);
  const stop = (signal: string) => {
    log('information', 'host', `${signal}: stopping.`);
    host.close().then(
      () => {
        log('information', 'host', 'stopped.');
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  log('error', 'host', err instanceof Error ? err.message : 'failed to start');
  process.exit(1);
});
