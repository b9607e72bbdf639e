// Reads single settings for the parsers: trimmed raw values, required values, secret names, URLs, whole numbers,
// booleans, org numbers. Every problem is recorded with the setting's name (never its value) instead of thrown.
import { type ConfigProblem, type ConfigProblemCode } from '../errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

const SECRET_NAME = /^[a-zA-Z][0-9a-zA-Z-]{0,126}$/;


export class Reader {
  readonly problems: ConfigProblem[] = [];
  constructor(private readonly env: Env) {}

  fail(setting: string, code: ConfigProblemCode, message: string): undefined {
    this.problems.push({ setting, code, message });
    return undefined;
  }

  raw(setting: string): string | undefined {
    const v = this.env[setting]?.trim();
    return v === undefined || v === '' ? undefined : v;
  }

  required(setting: string, what: string): string | undefined {
    return this.raw(setting) ?? this.fail(setting, 'SETTING_MISSING', `is required: set it to ${what}.`);
  }

  secretName(setting: string, value: string | undefined): string | undefined {
    if (value === undefined || SECRET_NAME.test(value)) return value;
    return this.fail(setting, 'SETTING_BAD_SECRET_NAME', 'is not a valid Key Vault secret name: use 1-127 letters, digits and dashes, starting with a letter.');
  }

  url(setting: string, value: string | undefined): URL | undefined {
    if (value === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return this.fail(setting, 'SETTING_BAD_URL', `is not a valid URL: give an absolute https:// URL.`);
    }
    if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url))) return url;
    return this.fail(setting, 'SETTING_INSECURE_URL', `must use https (plain http is allowed only for 127.0.0.1 or localhost).`);
  }

  integer(setting: string, fallback: number, min: number, max: number): number {
    const v = this.raw(setting);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.fail(setting, 'SETTING_BAD_NUMBER', `must be a whole number from ${min} to ${max}.`);
      return fallback;
    }
    return n;
  }

  bool(setting: string, value: string | undefined, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    const v = value.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
    this.fail(setting, 'SETTING_BAD_BOOLEAN', 'must be true or false.');
    return fallback;
  }
}

export function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

/** Splits a scope list written with spaces and/or commas; keeps order, drops duplicates. */
export function splitList(value: string): string[] {
  return [...new Set(value.split(/[\s,]+/).filter(Boolean))];
}

export function parseOrgNumber(r: Reader, setting: string, value: string | undefined, prefix = false): string | undefined {
  if (value === undefined) return undefined;
  const digits = value.replace(/^0192:/, '');
  if (!/^\d{9}$/.test(digits)) {
    return r.fail(setting, 'SETTING_BAD_ORG_NUMBER', `must be a 9-digit Norwegian organisation number${prefix ? ' (optionally prefixed 0192:)' : ''}.`);
  }
  return prefix ? `0192:${digits}` : digits;
}

export function withTrailingSlash(s: string): string {
  return s.endsWith('/') ? s : `${s}/`;
}

export function withoutTrailingSlash(s: string): string {
  return s.replace(/\/+$/, '');
}
