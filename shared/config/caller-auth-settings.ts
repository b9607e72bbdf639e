// The AUTH_* settings: caller authorization with Entra ID app roles, on when AUTH_TENANT_ID is set.
import { splitList, withoutTrailingSlash, type Reader } from './reader.js';
import { DEFAULT_PROFILE, type CallerAuthConfig, type Profile } from './types.js';


export const ENTRA_AUTHORITY = 'https://login.microsoftonline.com';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROLE_VALUE = /^[\x21-\x7e]{1,120}$/;

/** AUTH_TENANT_ID turns caller authorization on; the other AUTH_* settings then have to be right, and without it
 *  they are refused (a half-configured authorization must not silently leave the token open to function keys). */
export function parseCallerAuth(r: Reader, profiles: ReadonlyArray<Profile | undefined>): CallerAuthConfig | undefined {
  const tenantId = r.raw('AUTH_TENANT_ID');
  const audienceText = r.raw('AUTH_AUDIENCE');
  const authorityText = r.raw('AUTH_AUTHORITY');
  const roleSettings = profiles.flatMap((p) =>
    p?.authRoles ? [{ setting: p.name === DEFAULT_PROFILE ? 'AUTH_ROLES' : `PROFILE__${p.name}__AUTH_ROLES`, roles: p.authRoles }] : [],
  );
  for (const { setting, roles } of roleSettings) {
    if (roles.length === 0 || !roles.every((role) => ROLE_VALUE.test(role))) {
      r.fail(setting, 'SETTING_BAD_VALUE', 'must list Entra app role values (printable characters, no spaces), separated by spaces or commas.');
    }
  }
  if (tenantId === undefined) {
    for (const setting of [audienceText && 'AUTH_AUDIENCE', authorityText && 'AUTH_AUTHORITY', ...roleSettings.map((s) => s.setting)]) {
      if (setting) r.fail(setting, 'SETTING_CONFLICT', 'has no effect without AUTH_TENANT_ID: set AUTH_TENANT_ID (and AUTH_AUDIENCE) to turn caller authorization on, or remove this setting.');
    }
    return undefined;
  }
  if (!GUID.test(tenantId)) r.fail('AUTH_TENANT_ID', 'SETTING_BAD_VALUE', 'must be the Entra tenant id (a GUID, e.g. from `az account show --query tenantId`).');
  const audiences = audienceText === undefined ? [] : splitList(audienceText);
  if (audiences.length === 0) {
    r.fail('AUTH_AUDIENCE', 'SETTING_MISSING', "is required with AUTH_TENANT_ID: set it to the broker app registration's application ID URI (e.g. api://<client id>) and/or its client id.");
  }
  for (const aud of audiences) {
    if (!GUID.test(aud) && !/^[a-z][a-z0-9+.-]*:\S+$/i.test(aud)) {
      r.fail('AUTH_AUDIENCE', 'SETTING_BAD_VALUE', 'must list application ID URIs (e.g. api://<client id>) or client ids (GUIDs), separated by spaces or commas.');
      break;
    }
  }
  const authorityUrl = r.url('AUTH_AUTHORITY', authorityText ?? ENTRA_AUTHORITY);
  if (authorityUrl && (authorityUrl.pathname !== '/' || authorityUrl.search !== '' || authorityUrl.hash !== '')) {
    r.fail('AUTH_AUTHORITY', 'SETTING_BAD_VALUE', 'must be the authority host only, e.g. https://login.microsoftonline.com (the tenant comes from AUTH_TENANT_ID).');
    return undefined;
  }
  if (!authorityUrl || !GUID.test(tenantId) || audiences.length === 0) return undefined;
  return Object.freeze({ tenantId: tenantId.toLowerCase(), audiences: Object.freeze(audiences), authority: withoutTrailingSlash(authorityUrl.href) });
}
