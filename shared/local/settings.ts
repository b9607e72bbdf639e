// Reads local.settings.json (the Core Tools file) into process.env for the local host and the CLI tools.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Copies local.settings.json `Values` into process.env where the environment does not already set them. */
export function loadLocalSettings(file = resolve(process.cwd(), 'local.settings.json')): string | undefined {
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { Values?: Record<string, unknown> };
  for (const [k, v] of Object.entries(parsed.Values ?? {})) {
    if (process.env[k] === undefined && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) {
      process.env[k] = String(v);
    }
  }
  return file;
}

/**
 * Reads an env file as `npm run sims` writes it (`export NAME='value'` lines; `NAME=value`, blank lines and `#`
 * comments are fine too) into process.env, where the environment does not already set a name (the environment
 * wins, as over local.settings.json). Only ever read when the user asks for it (`--settings <file>`; not
 * `--env-file`, which Node 20 takes for itself wherever it appears on the command line).
 * Returns the names it set. Errors name the file, the line and what to do.
 */
export function loadEnvFile(path: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const file = resolve(process.cwd(), path);
  if (!existsSync(file)) {
    throw new Error(`--settings: ${file} does not exist. "npm run sims" writes .sims.env in the project directory while the simulators run.`);
  }
  const set: string[] = [];
  readFileSync(file, 'utf8').split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`--settings: ${file} line ${i + 1} is not NAME=value (or export NAME=value).`);
    const name = m[1]!;
    let value = m[2]!;
    if (/^'[^']*'$/.test(value) || /^"[^"\\]*"$/.test(value)) value = value.slice(1, -1);
    if (env[name] === undefined) {
      env[name] = value;
      set.push(name);
    }
  });
  return set;
}

/** Quotes a value for an `export NAME='value'` line that a POSIX shell and loadEnvFile read back the same. */
export function envLine(name: string, value: string): string {
  if (value.includes("'") || /[\r\n]/.test(value)) throw new Error(`${name}: a value with a quote or a line break cannot be written to an env file.`);
  return `export ${name}='${value}'`;
}

export interface HostAddress {
  readonly port: number;
  /** undefined: 127.0.0.1 and, where it exists, ::1. */
  readonly host?: string;
}

/** Loopback names and addresses: 127.0.0.0/8, ::1 (also as ::ffff:127.x) and localhost. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^(?:::ffff:)?127(?:\.\d{1,3}){3}$/.test(h);
}

/**
 * The local host's own settings, PORT, HOST and HOST_ALLOW_REMOTE, checked: every problem is reported at once,
 * each naming its setting. The local host checks no function keys, so it listens on a non-loopback address only
 * when HOST_ALLOW_REMOTE=true says so.
 */
export function hostAddress(env: NodeJS.ProcessEnv = process.env): HostAddress {
  const problems: string[] = [];
  let port = 7071;
  const rawPort = env.PORT?.trim();
  if (rawPort !== undefined && rawPort !== '') {
    if (/^\d{1,5}$/.test(rawPort) && Number(rawPort) <= 65535) port = Number(rawPort);
    else problems.push(`PORT: must be a whole number from 0 to 65535 (0 picks a free port), not ${JSON.stringify(env.PORT)}.`);
  }
  const allowRaw = env.HOST_ALLOW_REMOTE?.trim().toLowerCase();
  if (allowRaw !== undefined && allowRaw !== '' && allowRaw !== 'true' && allowRaw !== 'false') {
    problems.push(`HOST_ALLOW_REMOTE: must be true or false, not ${JSON.stringify(env.HOST_ALLOW_REMOTE)}.`);
  }
  const host = env.HOST?.trim() || undefined;
  if (host !== undefined) {
    if (!/^[A-Za-z0-9.:\-[\]%]+$/.test(host)) {
      problems.push(`HOST: must be an IP address or a host name of this machine (e.g. 127.0.0.1), not ${JSON.stringify(env.HOST)}.`);
    } else if (!isLoopback(host) && allowRaw !== 'true') {
      problems.push(
        `HOST: ${JSON.stringify(host)} is not a loopback address. The local host checks no function keys, so anyone who can reach ` +
          'that address could fetch tokens: use 127.0.0.1 (the default), or set HOST_ALLOW_REMOTE=true if you really mean it.',
      );
    }
  }
  if (problems.length > 0) throw new Error(`The local host's settings are invalid:\n  ${problems.join('\n  ')}`);
  return { port, ...(host !== undefined && { host: host.replace(/^\[(.*)\]$/, '$1') }) };
}
