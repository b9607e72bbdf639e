// Defaults the function modules need when they load; imports nothing, so registering a function stays cheap.
export const DEFAULT_REFRESH_SCHEDULE = '0 */5 * * * *';

/** Whether caller authorization is on (AUTH_TENANT_ID set): the token routes are then registered with authLevel
 *  'anonymous' and the code checks the caller's Entra ID token instead of the Functions host checking a key.
 *  Decided when the function module loads, from the same setting parseConfig reads; a half-configured
 *  authorization fails parseConfig, so such a route answers 500 to everyone rather than serving openly. */
export function callerAuthConfigured(env: Readonly<Record<string, string | undefined>>): boolean {
  return (env.AUTH_TENANT_ID?.trim() ?? '') !== '';
}
