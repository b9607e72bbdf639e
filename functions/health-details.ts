// HTTP trigger GET /api/health/details: is the broker configured, how did the last refresh and key check go, when
// does each token expire. Function key (checked by the Functions host) and, with caller authorization on, the
// Health.Read app role. No secrets: names, times, outcomes and error codes. A fresh instance reads each stored
// token's expiry from the vault at most once per profile per minute; it never mints.
import { app, type HttpHandler, type HttpResponseInit } from '@azure/functions';
import { loadCore } from '../shared/load-core.js';

const HEADERS = Object.freeze({ 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });

export const healthDetailsHandler: HttpHandler = async (request, context): Promise<HttpResponseInit> => {
  const core = await loadCore();
  const log = core.contextLogger(context);
  let runtime;
  try {
    runtime = core.getRuntime();
  } catch (err) {
    const problems = err instanceof core.ConfigError ? err.problems.map((p) => ({ ...p })) : [];
    return { status: 503, headers: { ...HEADERS }, body: JSON.stringify({ status: 'misconfigured', configured: false, problems }) };
  }
  runtime.announce(log);
  const access = await core.checkCaller(runtime.callerAuth, request.headers.get('authorization'), [core.HEALTH_READ], 'the health details');
  if (!access.ok) {
    const problem = core.problemFor(access.error, new URL(request.url).pathname);
    core.audit(log, { route: 'health-details', outcome: problem.status === 503 ? 'failed' : 'refused', status: problem.status, ...access.facts });
    return problem;
  }
  const profiles = await runtime.health(log);
  const status = runtime.overall();
  return {
    status: status === 'failing' ? 503 : 200,
    headers: { ...HEADERS },
    body: JSON.stringify({
      status,
      configured: true,
      environment: runtime.config.environment,
      callerAuthorization: runtime.callerAuth ? 'on' : 'off',
      profiles,
    }),
  };
};

export const healthDetailsOptions = {
  methods: ['GET' as const],
  authLevel: 'function' as const,
  route: 'health/details',
  handler: healthDetailsHandler,
};

app.http('healthDetails', healthDetailsOptions);
