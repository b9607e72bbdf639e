// HTTP trigger GET /api/token[/{profile}]: hands the current token of a profile to other Azure services.
// Thin: the broker decides whether to serve from memory or refresh first; errors become problem+json.
import { app, type HttpHandler, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { loadCore } from '../shared/load-core.js';

const HEADERS = Object.freeze({ 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache' });

export const tokenHandler: HttpHandler = async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
  const core = await loadCore();
  const log = core.contextLogger(context);
  try {
    const token = await core.getRuntime().broker(request.params.profile ?? undefined).getToken(log);
    return { status: 200, headers: { ...HEADERS }, body: core.tokenResponseBody(token, Date.now()) };
  } catch (err) {
    const path = new URL(request.url).pathname;
    const problem = core.problemFor(err, path);
    if (problem.status >= 500) log.error(`GET ${path} answered ${problem.status}: ${(err as Error).message}`);
    return problem;
  }
};

export const tokenOptions = {
  methods: ['GET' as const],
  authLevel: 'function' as const,
  route: 'token/{profile?}',
  handler: tokenHandler,
};

app.http('token', tokenOptions);
