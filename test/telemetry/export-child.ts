// Child process of export.test.ts (the Azure Monitor SDK installs process-wide providers, so it runs alone): sets up
// telemetry exactly as in Azure (shared/telemetry/azure-monitor.ts) with a credential that records what it is asked for,
// records one refresh in its span and one token served, then flushes and prints the scopes asked for as JSON.
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { shutdownAzureMonitor } from '@azure/monitor-opentelemetry';
import { startAzureMonitor } from '../../shared/telemetry/azure-monitor.js';
import { inRefreshSpan, refreshed, tokenServed, upstreamCall } from '../../shared/telemetry/instruments.js';

const asked: string[] = [];
const credential: TokenCredential = {
  async getToken(scopes: string | string[], _o?: GetTokenOptions): Promise<AccessToken> {
    asked.push(...[scopes].flat());
    return { token: process.env.FAKE_ENTRA_TOKEN!, expiresOnTimestamp: Date.now() + 3_600_000 };
  },
};

await startAzureMonitor({ APPLICATIONINSIGHTS_CONNECTION_STRING: process.env.CONNECTION_STRING }, credential);
await inRefreshSpan('default', 'timer', async () => {
  await upstreamCall({ upstream: 'maskinporten', method: 'POST', url: 'https://test.maskinporten.no/token', operation: 'token' }, async (r) => {
    r.status = 200;
  });
  refreshed('default', 'timer', 'refreshed');
});
tokenServed({ profile: 'default', outcome: 'served' });
await shutdownAzureMonitor();
process.stdout.write(`${JSON.stringify({ asked })}\n`);
process.exit(0);
