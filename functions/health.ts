// HTTP trigger GET /api/health: is the broker configured, how did the last refresh go, when does the token expire.
// No secrets: profile names, secret names, times, outcomes and error codes only. A fresh instance reads the stored
// token's expiry from the vault (once), it never mints.
import { app, type HttpHandler, type HttpResponseInit } from '@azure/functions';
import { loadCore } from '../shared/load-core.js';

export const healthHandler: HttpHandler = async (_request, context): Promise<HttpResponseInit> => {
  const { contextLogger, ConfigError, getRuntime } = await loadCore();
  const headers = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  let runtime;
  try {
    runtime = getRuntime();
  } catch (err) {
    const problems = err instanceof ConfigError ? err.problems.map((p) => ({ ...p })) : [];
    return { status: 503, headers, body: JSON.stringify({ status: 'misconfigured', configured: false, problems }) };
  }
  const now = Date.now();
  const profiles = await runtime.health(contextLogger(context));
  const valid = (p: (typeof profiles)[number]) => p.tokenExpiresAt !== undefined && Date.parse(p.tokenExpiresAt) > now;
  const failing = profiles.filter((p) => p.lastRefresh?.outcome === 'failed');
  const keyWarnings = profiles.filter((p) => p.key?.warning !== undefined);
  const status = failing.some((p) => !valid(p)) ? 'failing' : failing.length > 0 || keyWarnings.length > 0 ? 'degraded' : 'ok';
  return {
    status: status === 'failing' ? 503 : 200,
    headers,
    body: JSON.stringify({ status, configured: true, environment: runtime.config.environment, profiles }),
  };
};

export const healthOptions = {
  methods: ['GET' as const],
  authLevel: 'anonymous' as const,
  route: 'health',
  handler: healthHandler,
};

app.http('health', healthOptions);
