// HTTP trigger GET /api/health (anonymous): the overall status only, from memory. No profile or secret names, no
// errors, no vault call, whatever the request rate. The details are at GET /api/health/details (health-details.ts).
import { app, type HttpHandler, type HttpResponseInit } from '@azure/functions';
import { loadCore } from '../shared/load-core.js';

const HEADERS = Object.freeze({ 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });

export const healthHandler: HttpHandler = async (_request, context): Promise<HttpResponseInit> => {
  const { contextLogger, getRuntime } = await loadCore();
  let runtime;
  try {
    runtime = getRuntime();
  } catch {
    return { status: 503, headers: { ...HEADERS }, body: JSON.stringify({ status: 'misconfigured' }) };
  }
  runtime.announce(contextLogger(context));
  const status = runtime.overall();
  return { status: status === 'failing' ? 503 : 200, headers: { ...HEADERS }, body: JSON.stringify({ status }) };
};

export const healthOptions = {
  methods: ['GET' as const],
  authLevel: 'anonymous' as const,
  route: 'health',
  handler: healthHandler,
};

app.http('health', healthOptions);
