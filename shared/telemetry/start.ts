// When telemetry is exported (README, "Telemetry"): only where APPLICATIONINSIGHTS_CONNECTION_STRING is set, which
// the deployment does in Azure and the local host never needs. The Azure Monitor SDK (about half a second of module
// loading) is set up after the first invocation has answered, or TELEMETRY_START_DELAY_MS after start-up if no
// invocation comes first, so a cold start's first token never waits for it. Until it is in place the broker's
// counters and durations are kept in memory (instruments.ts) and then exported; spans of that first invocation are not.
import type { TokenCredential } from '@azure/identity';
import type { Logger } from '../logging.js';
import type { TelemetrySettings } from './azure-monitor.js';
import { flushPending, holdRecords } from './instruments.js';


/** Set-up starts at the latest this long after arming. */
export const TELEMETRY_START_DELAY_MS = 10_000;

export interface ArmOptions {
  /** Overrides the managed identity (the bench and tests). */
  readonly credential?: TokenCredential;
  readonly delayMs?: number;
}

type State = { phase: 'off' } | { phase: 'armed'; start: () => void; timer: NodeJS.Timeout } | { phase: 'starting' | 'on' | 'failed'; ready: Promise<boolean> };

let state: State = { phase: 'off' };
/** ms from arming until the SDK was in place (npm run bench). */
let setupMs: number | undefined;

export function telemetryWanted(env: TelemetrySettings): boolean {
  return (env.APPLICATIONINSIGHTS_CONNECTION_STRING ?? '').trim() !== '';
}

/** Arms the deferred set-up (the app start hook in Azure); does nothing without a connection string, or twice. */
export function armTelemetry(env: TelemetrySettings, log: Logger, options: ArmOptions = {}): boolean {
  if (!telemetryWanted(env) || state.phase !== 'off') return false;
  holdRecords();
  const t0 = performance.now();
  const start = (): void => {
    if (state.phase !== 'armed') return;
    clearTimeout(state.timer);
    const ready = import('./azure-monitor.js')
      .then((m) => m.startAzureMonitor(env, options.credential))
      .then(
        () => {
          setupMs = performance.now() - t0;
          state = { phase: 'on', ready };
          log.info(`Telemetry: exporting metrics and spans to Application Insights with ${env.AZURE_CLIENT_ID ? `the managed identity ${env.AZURE_CLIENT_ID}` : 'the app\'s identity (DefaultAzureCredential)'}.`);
          return true;
        },
        (err: unknown) => {
          state = { phase: 'failed', ready };
          log.error(`Telemetry could not be set up (${err instanceof Error ? err.message : 'unknown error'}); the broker works on without it.`);
          return false;
        },
      )
      .finally(flushPending);
    state = { phase: 'starting', ready };
  };
  state = { phase: 'armed', start, timer: setTimeout(start, options.delayMs ?? TELEMETRY_START_DELAY_MS) };
  return true;
}

/** Called after an invocation has answered: the first one starts the set-up, off the request's path. */
export function telemetryIdle(): void {
  if (state.phase === 'armed') setImmediate(state.start);
}

/** Resolves when the set-up has finished (true) or failed (false); false at once when not armed. */
export async function telemetryReady(): Promise<boolean> {
  if (state.phase === 'off') return false;
  if (state.phase === 'armed') state.start();
  return (state as { ready: Promise<boolean> }).ready;
}

export function telemetrySetupMs(): number | undefined {
  return setupMs;
}
