// What the function handlers use, in one module that they import on their first invocation (shared/load-core.ts):
// loading a function module then costs little more than @azure/functions itself (npm run bench, cold import).
export { contextLogger } from './http/context-logger.js';
export { ConfigError } from './errors.js';
export { problemCode, problemFor } from './http/problem.js';
export { getRuntime } from './runtime.js';
export { tokenResponseBody } from './http/token-response.js';
export { audit, fingerprint } from './callers/audit.js';
export { checkCaller, rolesForProfile, HEALTH_READ, TOKENS_ADMIN, TOKENS_READ_ALL } from './callers/caller-auth.js';
export { DEFAULT_PROFILE, routeProfile } from './config/config.js';
export { armTelemetry, telemetryIdle } from './telemetry/start.js';
