// `npm run host`: runs this Functions app locally without Core Tools. Settings come from the environment, then
// the env file named by `--settings <file>` (only when given), then local.settings.json `Values`, each for what
// the earlier ones do not set. Stops on SIGINT, SIGTERM, SIGHUP, or when the process that started it is gone.
import { parseArgs } from 'node:util';
import { startHost, type LogSink } from './host.js';
import { loadFunctions } from './functions.js';
import { stopOnExitRequest } from './lifecycle.js';
import { hostAddress, loadEnvFile, loadLocalSettings } from './settings.js';
import { redactingLogger } from '../logging.js';

const USAGE = `Usage: npm run host [-- --settings <file>]

Runs the app's HTTP functions under /api and its timer locally (PORT, default 7071; HOST, default 127.0.0.1 and ::1).
  --settings <file>  also read settings from this file (e.g. .sims.env, written by "npm run sims"); the environment wins
  -h, --help         show this help
`;

const log: LogSink = (level, fn, message) => {
  const stream = level === 'error' || level === 'warning' ? process.stderr : process.stdout;
  stream.write(`${new Date().toISOString()} [${level}] ${fn}: ${message}\n`);
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { settings: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return void process.stdout.write(USAGE);
  const envFile = values['settings'];
  if (envFile !== undefined) loadEnvFile(envFile);
  const settingsFile = loadLocalSettings();
  const address = hostAddress();
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
  const host = await startHost({ ...address, ...functions, log }).catch((err: NodeJS.ErrnoException) => {
    throw new Error(listenProblem(err, address.port, address.host ?? '127.0.0.1'));
  });
  const sources = ['environment', envFile, settingsFile].filter((s) => s !== undefined);
  log('information', 'host', `Settings: ${sources.join(' + ')}.`);
  log('information', 'host', `token: [GET] ${host.url}/api/token/{profile?}`);
  log('information', 'host', `health: [GET] ${host.url}/api/health`);
  log('information', 'host', `healthDetails: [GET] ${host.url}/api/health/details`);
  log('information', 'host', `refreshTokens: timer "${functions.timers[0]!.options.schedule}" (UTC); run now: curl -X POST ${host.url}/admin/functions/refreshTokens`);
  stopOnExitRequest(
    async () => {
      await host.close();
      log('information', 'host', 'stopped.');
    },
    { onStop: (reason) => log('information', 'host', `${reason}: stopping.`) },
  );
}

/** A listen failure as a settings problem: which setting to change. */
function listenProblem(err: NodeJS.ErrnoException, port: number, host: string): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return `PORT: port ${port} on ${host} is already in use (another "npm run host" or "npm start"?): stop that, or set PORT to another port (0: any free one).`;
    case 'EACCES':
      return `PORT: port ${port} needs privileges on this machine: use a port above 1023.`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `HOST: ${JSON.stringify(host)} is not an address of this machine: use 127.0.0.1 (the default) or one of its own addresses.`;
    default:
      return `could not listen on ${host}:${port} (${err.code ?? 'unknown error'}): check PORT and HOST.`;
  }
}

main().catch((err: unknown) => {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : 'failed to start';
  log('error', 'host', typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS') ? `${message.split('. To specify')[0]}\n${USAGE}` : message);
  process.exit(1);
});
