// Not part of the suite (not a *.test.ts): test/helpers/watchdog.test.ts runs it in a Jest of its own. Its test
// blocks the main thread in native code for ever, as Node 20's crypto deadlock did (test/helpers/global-setup.ts):
// no timer of that thread, Jest's testTimeout included, can end it.
import { test } from '@jest/globals';

test('blocks the main thread for ever', () => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});
