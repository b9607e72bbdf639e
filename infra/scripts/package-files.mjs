#!/usr/bin/env node
// Prints, one per line, the files of a Functions deployment package: every file under the project root that
// .funcignore keeps (gitignore syntax, as Core Tools reads it), so `node infra/scripts/package-files.mjs | zip -q -X app.zip -@`
// builds the same package on any machine. .git/ and .azure/ (azd's local environments) are always left out. A kept
// file that looks like a private key or local secrets stops the run (exit 1) instead of being shipped.
// Usage: node infra/scripts/package-files.mjs [project root]   (default: the current directory)
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ALWAYS_LEFT_OUT = ['.git', '.azure'];
const LOOKS_SECRET = [/\.private\.jwk(\.|$)/i, /\.pem$/i, /\.key$/i, /\.p12$/i, /\.pfx$/i, /(^|\/)\.env(\.|$)/i, /(^|\/)local\.settings\.json$/i];

/** One .funcignore line as a matcher over a /-separated relative path, or undefined for blanks and comments. */
export function parsePattern(line) {
  let text = line.replace(/(?<!\\)\s+$/, '');
  if (text === '' || text.startsWith('#')) return undefined;
  const negate = text.startsWith('!');
  if (negate) text = text.slice(1);
  if (text.startsWith('\\')) text = text.slice(1);
  const dirOnly = text.endsWith('/');
  if (dirOnly) text = text.slice(0, -1);
  const anchored = text.includes('/');
  if (text.startsWith('/')) text = text.slice(1);
  let re = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '*' && text[i + 1] === '*') {
      const slash = text[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const regex = new RegExp(anchored ? `^${re}$` : `(^|/)${re}$`);
  return { negate, dirOnly, test: (rel, isDir) => (!dirOnly || isDir) && regex.test(rel) };
}

/** Whether the last matching pattern ignores the path (gitignore: later lines win, ! re-includes). */
export function ignored(patterns, rel, isDir) {
  let result = false;
  for (const p of patterns) if (p.test(rel, isDir)) result = !p.negate;
  return result;
}

export function packageFiles(root) {
  const file = path.join(root, '.funcignore');
  const patterns = existsSync(file) ? readFileSync(file, 'utf8').split(/\r?\n/).map(parsePattern).filter(Boolean) : [];
  const out = [];
  const walk = (dir) => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = dir ? `${dir}/${entry.name}` : entry.name;
      if (!dir && ALWAYS_LEFT_OUT.includes(entry.name)) continue;
      const isDir = entry.isDirectory();
      if (ignored(patterns, rel, isDir)) continue; // like git, nothing inside an ignored folder comes back
      if (isDir) walk(rel);
      else if (entry.isFile()) out.push(rel);
    }
  };
  walk('');
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(process.argv[2] ?? '.');
  const files = packageFiles(root);
  const secret = files.filter((f) => LOOKS_SECRET.some((re) => re.test(f)));
  if (secret.length > 0) {
    process.stderr.write(`package-files: refusing to package ${secret.join(', ')}: it looks like a key or local secrets. Move it out of the project or add it to .funcignore.\n`);
    process.exit(1);
  }
  for (const f of ['host.json', 'package.json']) {
    if (!files.includes(f)) {
      process.stderr.write(`package-files: ${f} is not in the package (run from the project root, and check .funcignore).\n`);
      process.exit(1);
    }
  }
  process.stdout.write(files.map((f) => `${f}\n`).join(''));
}
