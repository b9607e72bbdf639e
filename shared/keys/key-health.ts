// What health shows about the key a profile signs with: source, name, version, kid or certificate subject, age and
// expiry; never key material. A key or certificate within 30 days of expiry, or older than a year, gets a warning
// that says what to do (health then reports "degraded").
import type { KeyInUse } from './vault-key.js';

export const EXPIRY_WARNING_DAYS = 30;
export const MAX_KEY_AGE_DAYS = 365;
const DAY_MS = 86_400_000;

export interface KeyHealth extends KeyInUse {
  /** Whole days since the version was created, where known. */
  readonly ageDays?: number;
  /** Whole days left until it expires, where known. */
  readonly expiresInDays?: number;
  /** Set when the key needs attention soon. */
  readonly warning?: string;
}

export function keyHealth(k: KeyInUse, nowMs: number): KeyHealth {
  const ageDays = k.createdAt === undefined ? undefined : Math.floor((nowMs - Date.parse(k.createdAt)) / DAY_MS);
  const expiresInDays = k.expiresAt === undefined ? undefined : Math.floor((Date.parse(k.expiresAt) - nowMs) / DAY_MS);
  const what = k.source === 'certificate' ? `Certificate "${k.name}"` : k.source === 'vault-key' ? `Key Vault key "${k.name}"` : `Key secret "${k.name}"`;
  const renew =
    k.source === 'certificate'
      ? 'order a renewed business certificate and import it as a new version of the certificate (the broker picks it up at its next timer run)'
      : k.source === 'vault-key'
        ? `add a new version with "keygen <name> --vault <url> --vault-key ${k.name} --rotate", register its public JWK in the portal, and let it take over`
        : 'generate a new key (npm run keygen), register its public JWK in the portal, and store it as a new version of the secret';
  let warning: string | undefined;
  if (expiresInDays !== undefined && expiresInDays < EXPIRY_WARNING_DAYS) {
    warning = `${what} version ${k.version} expires on ${k.expiresAt} (in ${Math.max(0, expiresInDays)} days): ${renew}.`;
  } else if (ageDays !== undefined && ageDays > MAX_KEY_AGE_DAYS) {
    warning = `${what} version ${k.version} is ${ageDays} days old (more than a year): ${renew}.`;
  }
  return { ...k, ...(ageDays !== undefined && { ageDays }), ...(expiresInDays !== undefined && { expiresInDays }), ...(warning !== undefined && { warning }) };
}
