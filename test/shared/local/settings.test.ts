// The local host's own settings (PORT, HOST, HOST_ALLOW_REMOTE) and the env files `npm run sims` writes and
// `--settings <file>` reads: every problem names its setting or file line; nothing is read unless asked for.
import { describe, expect, test } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envLine, hostAddress, isLoopback, loadEnvFile } from '../../../shared/local/settings.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

describe('hostAddress', () => {
  test('defaults: port 7071, both loopbacks', () => {
    expect(hostAddress({})).toEqual({ port: 7071 });
    expect(hostAddress({ PORT: '0', HOST: '127.0.0.1' })).toEqual({ port: 0, host: '127.0.0.1' });
    expect(hostAddress({ HOST: '[::1]' })).toEqual({ port: 7071, host: '::1' });
    expect(hostAddress({ HOST: 'localhost' })).toEqual({ port: 7071, host: 'localhost' });
  });

  test('a non-loopback HOST is refused unless HOST_ALLOW_REMOTE=true, since no function key is checked', () => {
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'my-laptop.example.com', '128.0.0.1']) {
      expect(() => hostAddress({ HOST: host })).toThrow(/HOST: .* is not a loopback address.*HOST_ALLOW_REMOTE=true/);
      expect(() => hostAddress({ HOST: host, HOST_ALLOW_REMOTE: 'false' })).toThrow(/HOST:/);
    }
    expect(hostAddress({ HOST: '0.0.0.0', HOST_ALLOW_REMOTE: 'true' })).toEqual({ port: 7071, host: '0.0.0.0' });
  });

  test('bad PORT, HOST and HOST_ALLOW_REMOTE values are named, all at once', () => {
    const attempt = () => hostAddress({ PORT: '70000', HOST: 'a b', HOST_ALLOW_REMOTE: 'yes' });
    expect(attempt).toThrow(/PORT: must be a whole number from 0 to 65535.*"70000"/);
    expect(attempt).toThrow(/HOST_ALLOW_REMOTE: must be true or false, not "yes"/);
    expect(attempt).toThrow(/HOST: must be an IP address or a host name/);
    for (const port of ['abc', '-1', '1.5', '8080x']) expect(() => hostAddress({ PORT: port })).toThrow(/^[\s\S]*PORT: /);
  });

  test('isLoopback', () => {
    for (const h of ['127.0.0.1', '127.5.6.7', '::1', '[::1]', 'LOCALHOST', '::ffff:127.0.0.1']) expect(isLoopback(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.1', 'localhost.evil.com', '127.0.0.1.nip.io']) expect(isLoopback(h)).toBe(false);
  });
});

describe('npm run host refuses bad local settings before listening', () => {
  const run = (env: Record<string, string>) =>
    spawnSync('npm', ['run', '--silent', 'host'], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });

  test('HOST=0.0.0.0 without HOST_ALLOW_REMOTE: exit 1, says why, never listens', () => {
    const r = run({ HOST: '0.0.0.0', PORT: '0' });
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/HOST: "0\.0\.0\.0" is not a loopback address/);
    expect(r.stdout + r.stderr).not.toMatch(/token: \[GET\]/);
  }, 40_000);

  test('PORT=abc names PORT', () => {
    const r = run({ PORT: 'abc' });
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/PORT: must be a whole number/);
  }, 40_000);
});

describe('env files (--settings <file>)', () => {
  const file = (text: string) => {
    const path = join(mkdtempSync(join(tmpdir(), 'envfile-')), 'x.env');
    writeFileSync(path, text);
    return path;
  };

  test('reads export lines, plain lines, quotes and comments; the environment wins', () => {
    const env: NodeJS.ProcessEnv = { KEEP: 'mine' };
    const set = loadEnvFile(file("# comment\n\nexport A='http://127.0.0.1:1/'\nB=plain value\nexport C=\"dq\"\nKEEP=theirs\n"), env);
    expect(env).toEqual({ A: 'http://127.0.0.1:1/', B: 'plain value', C: 'dq', KEEP: 'mine' });
    expect(set).toEqual(['A', 'B', 'C']);
  });

  test('a missing file or a bad line is an error naming the file (and line)', () => {
    expect(() => loadEnvFile('/nonexistent/.sims.env', {})).toThrow(/--settings: \/nonexistent\/\.sims\.env does not exist.*npm run sims/);
    expect(() => loadEnvFile(file('A=1\nnot a setting\n'), {})).toThrow(/line 2 is not NAME=value/);
  });

  test('what envLine writes, a POSIX shell reads back the same (copy-paste of the export lines works)', () => {
    const values = { URL: 'http://127.0.0.1:4321/', SCOPES: 'a:b c:d', ODD: 'x&y;$HOME`z`' };
    const lines = Object.entries(values).map(([k, v]) => envLine(k, v));
    const out = execFileSync('sh', ['-c', `${lines.join('\n')}\nprintf '%s|' "$URL" "$SCOPES" "$ODD"`], { encoding: 'utf8' });
    expect(out).toBe(`${values.URL}|${values.SCOPES}|${values.ODD}|`);
    const env: NodeJS.ProcessEnv = {};
    loadEnvFile(file(lines.join('\n')), env);
    expect(env).toEqual(values);
    expect(() => envLine('X', "it's")).toThrow(/X: /);
  });
});
