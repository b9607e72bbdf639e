// Option checks shared by the two token sources, and the lazily built default credential.
import type { TokenCredential } from '@azure/identity';
import { badOption } from './errors.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** An https URL, or plain http to a loopback address (a local host or simulator); a trailing slash is dropped. */
export function checkUrl(option: string, value: unknown, example: string): { url: string; loopback: boolean } {
  if (typeof value !== 'string' || value === '') throw badOption(option, `is required: the base URL, e.g. ${example}.`);
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw badOption(option, `is not an absolute URL (e.g. ${example}).`);
  }
  const loopback = LOOPBACK.has(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) {
    throw badOption(option, 'must use https (plain http is accepted for 127.0.0.1 and localhost only).');
  }
  if (u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '') {
    throw badOption(option, 'must be a base URL without query, fragment or user info.');
  }
  return { url: u.href.replace(/\/+$/, ''), loopback };
}

export function checkMargin(value: unknown): number {
  if (value === undefined) return 60;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 86_400) {
    throw badOption('refreshMarginSeconds', 'must be a number of seconds from 0 to 86400.');
  }
  return value;
}

export function checkPositive(option: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    throw badOption(option, `must be a number from 0 to ${max}.`);
  }
  return value;
}

export function checkCredential(value: unknown): TokenCredential | undefined {
  if (value === undefined) return undefined;
  if (typeof (value as { getToken?: unknown } | null)?.getToken !== 'function') {
    throw badOption('credential', 'must be a TokenCredential from @azure/identity (an object with getToken).');
  }
  return value as TokenCredential;
}

/** The given credential, or `new DefaultAzureCredential()`, built (and @azure/identity loaded) on first use only. */
export function lazyCredential(given: TokenCredential | undefined): () => Promise<TokenCredential> {
  let credential: Promise<TokenCredential> | undefined = given && Promise.resolve(given);
  return () => (credential ??= import('@azure/identity').then((m) => new m.DefaultAzureCredential()));
}
