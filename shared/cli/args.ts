// Command-line plumbing shared by the commands: the output port, exit codes, and strict flag parsing with
// node:util parseArgs whose failures become UsageErrors that name the flag.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** 0 done; 1 the operation failed (Key Vault, Maskinporten, Altinn, file system); 2 bad usage or settings. */
export const EXIT = Object.freeze({ OK: 0, FAILED: 1, USAGE: 2 });

/** Where a command writes: stdout for results, stderr for progress and errors. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** Wrong flags or arguments: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A command's operation failed for a reason the message explains (safe text only), exit code 1. */
export class CommandError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** parseArgs (strict by default: unknown options fail); its own errors (unknown option, missing value) already name the flag. */
export function parseFlags<const T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    // Node's unknown-option text goes on about positionals after "--": keep its first sentence.
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) throw new UsageError((err as Error).message.split('. To specify')[0]!);
    throw err;
  }
}

/** The one value a flag may take from a fixed list (case-insensitive). */
export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  const v = value.toLowerCase() as T;
  if (!allowed.includes(v)) {
    const list = allowed.map((a) => `"${a}"`);
    throw new UsageError(`${flag} must be ${[list.slice(0, -1).join(', '), list.at(-1)].filter(Boolean).join(' or ')}, not ${JSON.stringify(value)}.`);
  }
  return v;
}

/** Key Vault's secret name rule (as parseConfig checks MASKINPORTEN_KEY_SECRET). */
export const SECRET_NAME = /^[a-zA-Z][0-9a-zA-Z-]{0,126}$/;
