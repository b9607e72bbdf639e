// HTTP triggers for an operator acting on an alert (infra/README.md, "Runbook"):
//   POST /api/manage/refresh/{profile?}  mint a new token for the profile now (e.g. after a key rotation);
//   POST /api/manage/drop/{profile?}     forget its cached token: a tombstone on top of the token secret, the
//                                        versions holding a still-valid token disabled, this instance's memory
//                                        cleared; the next request or timer run mints anew (after a compromise).
// Function key (checked by the Functions host) always and, with caller authorization on, the Tokens.Admin app role.
// One audit line per call, like a token hand-out; the answer names the token by fingerprint, never the token.
// Not under /api/admin: the Functions host reserves routes (and function names) that start with "admin".
import { app, type HttpHandler, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { loadCore } from '../shared/load-core.js';

const HEADERS = Object.freeze({ 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });

export type ManageAction = 'refresh' | 'drop';

function manageHandler(action: ManageAction): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const core = await loadCore();
    const log = core.contextLogger(context);
    const path = new URL(request.url).pathname;
    try {
      const runtime = core.getRuntime();
      runtime.announce(log);
      const { asked, logName: profileField } = core.routeProfile(request.params.profile);
      const access = await core.checkCaller(runtime.callerAuth, request.headers.get('authorization'), [core.TOKENS_ADMIN], `${action} of a profile's token`);
      if (!access.ok) {
        const problem = core.problemFor(access.error, path);
        core.audit(log, { route: 'manage', action, outcome: problem.status === 503 ? 'failed' : 'refused', status: problem.status, profile: profileField, ...access.facts });
        return problem;
      }
      try {
        const broker = runtime.broker(asked);
        if (action === 'refresh') {
          const token = await broker.forceRefresh(log);
          const tokenExpiresAt = new Date(token.expiresAt).toISOString();
          const tokenFingerprint = core.fingerprint(token.token);
          core.audit(log, { route: 'manage', action, outcome: 'done', status: 200, profile: profileField, ...access.facts, tokenExpiresAt, tokenFingerprint });
          return { status: 200, headers: { ...HEADERS }, body: JSON.stringify({ action, profile: broker.profile.name, outcome: 'refreshed', tokenExpiresAt, tokenFingerprint }) };
        }
        const { dropped, vault } = await broker.dropToken(log);
        const droppedFingerprint = dropped && core.fingerprint(dropped.token);
        core.audit(log, {
          route: 'manage',
          action,
          outcome: 'done',
          status: 200,
          profile: profileField,
          ...access.facts,
          ...(droppedFingerprint && { droppedFingerprint }),
          vaultVersion: vault.version,
          disabledVersions: vault.disabledVersions,
        });
        return {
          status: 200,
          headers: { ...HEADERS },
          body: JSON.stringify({
            action,
            profile: broker.profile.name,
            outcome: 'dropped',
            memory: dropped ? 'cleared' : 'empty',
            ...(droppedFingerprint && { droppedFingerprint }),
            vault: { tombstoneVersion: vault.version, disabledVersions: vault.disabledVersions },
            note: 'Other instances keep their copy in memory until their next refresh: restart the app to clear them now.',
          }),
        };
      } catch (err) {
        const problem = core.problemFor(err, path);
        const code = core.problemCode(err);
        core.audit(log, { route: 'manage', action, outcome: 'failed', status: problem.status, profile: profileField, ...access.facts, ...(code && { reason: code }) });
        if (problem.status >= 500) log.error(`POST ${path} answered ${problem.status}: ${(err as Error).message}`);
        return problem;
      }
    } catch (err) {
      const problem = core.problemFor(err, path);
      if (problem.status >= 500) log.error(`POST ${path} answered ${problem.status}: ${(err as Error).message}`);
      return problem;
    }
  };
}

export const manageRefreshHandler = manageHandler('refresh');
export const manageDropHandler = manageHandler('drop');

// Function-level auth whatever AUTH_TENANT_ID says: the key is a second factor for an action that changes state.
export const manageRefreshOptions = {
  methods: ['POST' as const],
  authLevel: 'function' as const,
  route: 'manage/refresh/{profile?}',
  handler: manageRefreshHandler,
};

export const manageDropOptions = {
  methods: ['POST' as const],
  authLevel: 'function' as const,
  route: 'manage/drop/{profile?}',
  handler: manageDropHandler,
};

app.http('manageRefresh', manageRefreshOptions);
app.http('manageDrop', manageDropOptions);
