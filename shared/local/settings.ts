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
