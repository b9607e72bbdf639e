// App start hook (Azure only; the local host does the same in shared/local/host-main.ts): logs the start-up
// warnings (caller authorization off, one vault for key and tokens) and reads and decodes every profile's key, so
// a bad key or an unreachable vault shows in GET /api/health as failing from the first second, before any refresh.
// The hook context has no logger: lines go through console (which the Functions worker forwards), redacted.
// With APPLICATIONINSIGHTS_CONNECTION_STRING set, it also arms the telemetry set-up, which starts once the first
// invocation has answered (shared/telemetry/start.ts): the cold path does not wait for it.
import { app } from '@azure/functions';
import { loadCore } from '../shared/load-core.js';

export async function startupHandler(): Promise<void> {
  const core = await loadCore();
  const log = core.contextLogger(console);
  core.armTelemetry(process.env, log);
  try {
    const runtime = core.getRuntime();
    runtime.announce(log);
    await runtime.checkKeys(log);
  } catch (err) {
    log.error(`${err instanceof Error ? err.message : 'Start-up check failed.'}\nThe functions will answer with this problem until the settings are fixed.`);
  }
}

app.hook.appStart(startupHandler);

if (process.env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim()) {
  app.hook.postInvocation(() => void loadCore().then((core) => core.telemetryIdle()));
}
