// The test watchdog (watchdog-environment.ts), through `npm test` itself: a file stuck in native code ends the run
// within its bound, named on stderr, and a file that raises its own bound may take longer than the default.
// Each case runs `npm test` on one file from watchdog-fixtures/ in a process group of its own, with a default bound
// of 2 s; without the watchdog the stuck run would never end, and this test fails when the group is still running
// after 60 s.
import { describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const GIVE_UP_MS = 60_000;

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly ms: number;
  /** True when the run was still going after GIVE_UP_MS and had to be killed here. */
  readonly hung: boolean;
}

function npmTest(fixture: string): Promise<Run> {
  const started = Date.now();
  const child = spawn('npm', ['test', '--', '--testMatch', `**/watchdog-fixtures/${fixture}`], {
    cwd: REPO,
    env: { ...process.env, TEST_FILE_TIMEOUT_SECONDS: '2' },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString('utf8')));
  let hung = false;
  const giveUp = setTimeout(() => {
    hung = true;
    process.kill(-child.pid!, 'SIGKILL');
  }, GIVE_UP_MS);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(giveUp);
      resolve({ code, signal, stderr, ms: Date.now() - started, hung });
    });
  });
}

describe('test watchdog', () => {
  test('a file stuck in native code ends the run within its bound, and stderr names the file', async () => {
    const [stuck, slow] = await Promise.all([npmTest('stuck.fixture.ts'), npmTest('slow.fixture.ts')]);

    expect(stuck.hung).toBe(false);
    expect(stuck.code).not.toBe(0);
    expect(stuck.stderr).toMatch(/\[test watchdog\] test\/helpers\/watchdog-fixtures\/stuck\.fixture\.ts is stuck: it has run for [23] s, over its bound of 2 s/);
    expect(stuck.ms).toBeLessThan(GIVE_UP_MS);

    // A file's own bound (60 s) wins over the default (2 s): the 4 s test passes.
    expect(slow.hung).toBe(false);
    expect(slow.stderr).not.toMatch(/test watchdog/);
    expect(slow.stderr).toMatch(/Tests:\s+1 passed, 1 total/);
    expect(slow.code).toBe(0);
  }, 2 * GIVE_UP_MS);
});
