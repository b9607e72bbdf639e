// What the function handlers use, in one module that they import on their first invocation (shared/load-core.ts):
// loading a function module then costs little more than @azure/functions itself (npm run bench, cold import).
export { contextLogger } from './context-logger.js';
export { ConfigError } from './errors.js';
export { problemCode, problemFor } from './problem.js';
export { getRuntime } from './runtime.js';
export { tokenResponseBody } from './token-response.js';
export { audit, fingerprint } from './audit.js';
export { checkCaller, rolesForProfile, HEALTH_READ, TOKENS_ADMIN, TOKENS_READ_ALL } from './caller-auth.js';
export { DEFAULT_PROFILE, routeProfile } from './config.js';
export { armTelemetry, telemetryIdle } from './telemetry-start.js';
