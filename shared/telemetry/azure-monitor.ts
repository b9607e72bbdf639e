// The Azure Monitor OpenTelemetry set-up, loaded only by start.ts (never at import, never on the local
// host). Application Insights here takes Entra ID-authenticated ingestion only (local auth off): the exporter signs
// in with the app's managed identity (AZURE_CLIENT_ID: the user-assigned identity; else DefaultAzureCredential), or
// every export would be refused and the telemetry silently lost.
//
// Who sends what: this worker exports the broker's metrics (customMetrics) and spans (dependencies); the Functions
// host, with host.json "telemetryMode": "OpenTelemetry", exports the invocations (requests) and the log lines
// (traces, the audit trail included) with its own Entra ID sign-in (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
// The worker does not take the log lines over (no WorkerOpenTelemetryEnabled): this set-up runs after the first
// invocation, and the host's copy of that invocation's audit line must not be lost meanwhile.
import * as azFunc from '@azure/functions';
// A webpack-built CommonJS bundle: Node's ESM loader sees no named exports in it, only the default.
import functionsInstrumentation from '@azure/functions-opentelemetry-instrumentation';
import type { TokenCredential } from '@azure/identity';
import { useAzureMonitor } from '@azure/monitor-opentelemetry';

/** The app settings telemetry reads. */
export interface TelemetrySettings {
  readonly APPLICATIONINSIGHTS_CONNECTION_STRING?: string;
  readonly AZURE_CLIENT_ID?: string;
}

/** The identity the exporter signs in with: the user-assigned managed identity when AZURE_CLIENT_ID is set. */
export async function ingestionCredential(env: TelemetrySettings): Promise<TokenCredential> {
  const identity = await import('@azure/identity');
  const clientId = env.AZURE_CLIENT_ID?.trim();
  return clientId ? new identity.ManagedIdentityCredential({ clientId }) : new identity.DefaultAzureCredential();
}

export async function startAzureMonitor(env: TelemetrySettings, credential?: TokenCredential): Promise<void> {
  useAzureMonitor({
    azureMonitorExporterOptions: {
      connectionString: env.APPLICATIONINSIGHTS_CONNECTION_STRING!.trim(),
      credential: credential ?? (await ingestionCredential(env)),
    },
    // Every span kept: the broker makes a few per refresh and none on a warm token request, and a slow or failed
    // refresh must be explainable (the default rate-limited sampler drops the first spans of a process).
    samplingRatio: 1,
    tracesPerSecond: 0,
    instrumentationOptions: {
      // The broker makes its own spans for Maskinporten, Altinn and Key Vault (instruments.ts); these would repeat
      // the Key Vault calls as a second set of dependencies.
      http: { enabled: false },
      azureSdk: { enabled: false },
    },
  });
  // The Functions instrumentation, for the trace context only: each invocation's spans become children of the
  // host's invocation. Its log hook and its `app.setup` capability are left out (see the top of this file; and
  // `app.setup` is locked once the app has started).
  const instrumentation = new functionsInstrumentation.AzureFunctionsInstrumentationESM();
  const noLogs = () => ({ dispose: () => undefined }) as unknown as azFunc.Disposable;
  instrumentation.registerAzFunc({
    ...azFunc,
    app: { ...azFunc.app, setup: () => undefined, hook: { ...azFunc.app.hook, log: noLogs } },
  } as typeof azFunc);
}
