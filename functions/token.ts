// HTTP trigger GET /api/token[/{profile}]: hands the current token of a profile to other Azure services.
// Thin: the broker decides whether to serve from memory or refresh first; errors become problem+json.
import { app, type HttpHandler, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { contextLogger } from '../shared/context-logger.js';
import { problemFor } from '../shared/problem.js';
import { getRuntime } from '../shared/runtime.js';

export const tokenHandler: HttpHandler = async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
  const log = contextLogger(context);
  try {
    const broker = getRuntime().broker(request.params.profile ?? undefined);
    const token = await broker.getToken(log);
    const expiresIn = Math.max(0, Math.floor((token.expiresAt - Date.now()) / 1000));
    return {
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache' },
      body: JSON.stringify({
        access_token: token.token,
        token_type: 'Bearer',
        expires_in: expiresIn,
        expires_at: new Date(token.expiresAt).toISOString(),
        scope: token.scope,
      }),
    };
  } catch (err) {
    const problem = problemFor(err, new URL(request.url).pathname);
    if (problem.status >= 500) log.error(`GET ${new URL(request.url).pathname} answered ${problem.status}: ${(err as Error).message}`);
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
