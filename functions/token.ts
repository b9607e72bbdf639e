// HTTP trigger GET /api/token[/{profile}]: hands the current token of a profile to other Azure services.
// Thin: checks the caller (Entra ID app roles when AUTH_TENANT_ID is set, else the host's function key), lets the
// broker serve from memory or refresh, writes one audit line per request; errors become problem+json.
import { app, type HttpHandler, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { callerAuthConfigured } from '../shared/config/defaults.js';
import { loadCore } from '../shared/load-core.js';

const HEADERS = Object.freeze({
  'content-type': 'application/json',
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'x-content-type-options': 'nosniff',
});

export const tokenHandler: HttpHandler = async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
  const core = await loadCore();
  const log = core.contextLogger(context);
  const path = new URL(request.url).pathname;
  try {
    const runtime = core.getRuntime();
    runtime.announce(log);
    const { asked, wellFormed, logName: profileField } = core.routeProfile(request.params.profile);
    const profile = runtime.config.profiles.find((p) => p.name === asked);
    // An unknown profile needs the role it would need if it existed, so a caller cannot probe for profile names.
    const required = profile ? core.rolesForProfile(profile) : wellFormed ? core.rolesForProfile({ name: asked }) : [core.TOKENS_READ_ALL];
    const access = await core.checkCaller(runtime.callerAuth, request.headers.get('authorization'), required, `profile "${profileField}"`);
    if (!access.ok) {
      const problem = core.problemFor(access.error, path);
      core.audit(log, { route: 'token', outcome: problem.status === 503 ? 'failed' : 'refused', status: problem.status, profile: profileField, ...access.facts });
      return problem;
    }
    try {
      const token = await runtime.broker(request.params.profile ?? undefined).getToken(log);
      core.audit(log, {
        route: 'token',
        outcome: 'served',
        status: 200,
        profile: profileField,
        ...access.facts,
        tokenExpiresAt: new Date(token.expiresAt).toISOString(),
        tokenFingerprint: core.fingerprint(token.token),
      });
      return { status: 200, headers: { ...HEADERS }, body: core.tokenResponseBody(token, Date.now()) };
    } catch (err) {
      const problem = core.problemFor(err, path);
      const code = core.problemCode(err);
      core.audit(log, { route: 'token', outcome: 'failed', status: problem.status, profile: profileField, ...access.facts, ...(code && { reason: code }) });
      if (problem.status >= 500) log.error(`GET ${path} answered ${problem.status}: ${(err as Error).message}`);
      return problem;
    }
  } catch (err) {
    const problem = core.problemFor(err, path);
    if (problem.status >= 500) log.error(`GET ${path} answered ${problem.status}: ${(err as Error).message}`);
    return problem;
  }
};

export const tokenOptions = {
  methods: ['GET' as const],
  // With caller authorization on (AUTH_TENANT_ID), the code checks each caller's Entra ID token and app roles, so
  // a consumer with a managed identity needs no shared function key. Read when this module loads, as the timer
  // reads REFRESH_SCHEDULE: changing AUTH_TENANT_ID restarts the app in Azure, which registers the route again.
  authLevel: callerAuthConfigured(process.env) ? ('anonymous' as const) : ('function' as const),
  route: 'token/{profile?}',
  handler: tokenHandler,
};

app.http('token', tokenOptions);
