/** @jest-environment-options {"watchdogSeconds": 60} */
// Not part of the suite (not a *.test.ts): test/helpers/watchdog.test.ts runs it in a Jest of its own, with a
// default bound shorter than this test takes; the file's own bound above lets it finish.
import { expect, test } from '@jest/globals';

test('blocks the main thread for 4 s, then passes', () => {
  const started = Date.now();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 4000);
  expect(Date.now() - started).toBeGreaterThanOrEqual(3900);
});
