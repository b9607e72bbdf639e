// The audit trail: one line of JSON per token handed out and per refusal, written through the invocation's logger
// so that it reads the same in the local host, a console and Application Insights (traces). Holds who asked, for
// which profile, what allowed or refused it, and a short fingerprint of the token served: never a token.
import { createHash } from 'node:crypto';
import type { Logger } from '../logging.js';
import { tokenServed, type ServedOutcome } from '../telemetry/instruments.js';

/** The first key of every audit line; `traces | where message startswith '{"audit":'` finds them. */
export const AUDIT_MARK = 'audit';

export interface AuditEntry {
  /** What was asked for: a profile's token, the health details, or an operator action (POST /api/manage/...). */
  readonly route: 'token' | 'health-details' | 'manage';
  /** served: a token (or the details) went out; done: an operator action succeeded; refused: 401/403; failed:
   *  allowed, but nothing could be served or done. */
  readonly outcome: 'served' | 'done' | 'refused' | 'failed';
  /** For route manage: refresh (mint a new token now) or drop (forget the cached token, memory and vault). */
  readonly action?: 'refresh' | 'drop';
  readonly status: number;
  /** How the caller was checked: its Entra ID token, or only the Functions host's function key. */
  readonly auth: 'entra' | 'function-key';
  readonly profile?: string;
  /** Caller object id (`oid`) and application id (`azp`/`appid`). */
  readonly callerOid?: string;
  readonly callerAppId?: string;
  /** false when the ids come from a token whose signature did not verify (claimed, not proven). */
  readonly callerVerified?: boolean;
  /** The app role that allowed it. */
  readonly role?: string;
  /** Why it was refused or failed: a fixed reason or an error code. */
  readonly reason?: string;
  readonly tokenExpiresAt?: string;
  /** `sha256:` and the first 16 hex digits of the SHA-256 of the token served (or minted by a forced refresh). */
  readonly tokenFingerprint?: string;
  /** For a drop: the fingerprint of the token this instance held in memory, the tombstone version written to the
   *  vault, and how many versions holding a valid token were disabled. */
  readonly droppedFingerprint?: string;
  readonly vaultVersion?: string;
  readonly disabledVersions?: number;
}

/** A short, one-way fingerprint of a token: enough to match a token seen elsewhere, useless to call an API with. */
export function fingerprint(token: string): string {
  // A warm broker serves the same token many times: hash it once.
  if (token !== last.token) last = { token, fingerprint: `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 16)}` };
  return last.fingerprint;
}

let last = { token: '', fingerprint: '' };

export function auditLine(entry: AuditEntry): string {
  return JSON.stringify({ [AUDIT_MARK]: entry.route, ...entry });
}

export function audit(log: Logger, entry: AuditEntry): void {
  log.info(auditLine(entry));
  if (entry.route === 'token') countServed(entry);
}

/** Every token request audited is also counted (broker.token.served); the caller's app id only when proven. */
function countServed(e: AuditEntry): void {
  const outcome: ServedOutcome =
    e.outcome === 'served' ? 'served' : e.outcome === 'refused' && e.status === 401 ? 'unauthenticated' : e.outcome === 'refused' && e.status === 403 ? 'forbidden' : 'unavailable';
  tokenServed({
    ...(e.profile !== undefined && { profile: e.profile }),
    outcome,
    ...(e.auth === 'entra' && e.callerVerified !== false && e.callerAppId !== undefined && { callerAppId: e.callerAppId }),
    ...(outcome !== 'served' && e.reason !== undefined && { errorType: e.reason }),
  });
}
