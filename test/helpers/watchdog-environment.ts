// Jest's test environment for this project: Node's, plus a watchdog that ends a test file that is stuck, naming it,
// instead of letting `npm test` hang for ever (a file once did: Node 20's crypto code deadlocked the main thread,
// see test/helpers/global-setup.ts).
//
// Jest's own testTimeout cannot catch that: on a machine with two cores Jest runs every file in its own main thread
// ("in band"), and a timer of that thread never fires while the thread is blocked in native code. So the watchdog is
// a worker thread, one per Jest process. Before a file starts, the environment writes the file's name, the time and
// the file's bound into memory it shares with the watchdog; when the file is done it marks the slot idle. When a file
// runs over its bound, the watchdog writes "<file> is stuck" to stderr (directly to the file descriptor: the main
// thread, which would carry process.stderr, is stuck) and ends the process with SIGKILL, the one signal that needs
// nothing from a blocked main thread. In band that ends the run, with a non-zero exit; in a Jest worker process the
// file fails with that worker's death and the run goes on.
//
// The bound is 120 s by default, TEST_FILE_TIMEOUT_SECONDS sets another default, and a file that needs longer
// raises its own in its first comment: /** @jest-environment-options {"watchdogSeconds": 300} */
//
// Jest loads this file without the test files' module mapping, so it imports no module of ours.
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { TestEnvironment } from 'jest-environment-node';
import { relative } from 'node:path';
import { Worker } from 'node:worker_threads';

export const TIMEOUT_ENV = 'TEST_FILE_TIMEOUT_SECONDS';
export const DEFAULT_SECONDS = 120;

// The shared slot: Int32 0 is bumped on every change (the watchdog waits on it), Int32 1 is 1 while a file runs,
// Float64 1 and 2 hold the file's start (ms since the epoch) and bound (ms), Int32 6 the name's length in bytes,
// and the name (UTF-8) starts at byte 32.
const NAME_AT = 32;
const SLOT_BYTES = 4096;

// The watchdog thread. CommonJS, evaluated as given (eval: true).
const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const i32 = new Int32Array(workerData.slot, 0, 8);
const f64 = new Float64Array(workerData.slot, 0, 4);
const name = new Uint8Array(workerData.slot, ${NAME_AT});
for (;;) {
  const seen = Atomics.load(i32, 0);
  if (Atomics.load(i32, 1) !== 1) { Atomics.wait(i32, 0, seen); continue; }
  const start = f64[1], bound = f64[2];
  const left = start + bound - Date.now();
  if (left > 0) { Atomics.wait(i32, 0, seen, left); continue; }
  if (Atomics.load(i32, 0) !== seen) continue;
  const file = Buffer.from(name.subarray(0, Atomics.load(i32, 6))).toString('utf8');
  writeSync(2, '\\n[test watchdog] ' + file + ' is stuck: it has run for ' + Math.round((Date.now() - start) / 1000) +
    ' s, over its bound of ' + Math.round(bound / 1000) + ' s, and its thread does not come back to Jest. Ending this Jest ' +
    'process (' + process.pid + ') now. A file that needs longer raises its own bound in its first comment: ' +
    '/** @jest-environment-options {"watchdogSeconds": 300} */ (default: ${TIMEOUT_ENV}, or ${DEFAULT_SECONDS} s).\\n');
  process.kill(process.pid, 'SIGKILL');
}
`;

let slot: { i32: Int32Array; f64: Float64Array; name: Uint8Array } | undefined;

function watchdog(): NonNullable<typeof slot> {
  if (!slot) {
    const shared = new SharedArrayBuffer(SLOT_BYTES);
    new Worker(WATCHDOG, { eval: true, workerData: { slot: shared }, name: 'test watchdog' }).unref();
    slot = { i32: new Int32Array(shared, 0, 8), f64: new Float64Array(shared, 0, 4), name: new Uint8Array(shared, NAME_AT) };
  }
  return slot;
}

function changed(s: NonNullable<typeof slot>): void {
  Atomics.add(s.i32, 0, 1);
  Atomics.notify(s.i32, 0);
}

/** Seconds from TEST_FILE_TIMEOUT_SECONDS or the file's own watchdogSeconds; anything but a positive number is refused. */
function seconds(value: unknown, from: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`${from} must be a positive number of seconds, not ${JSON.stringify(value)}.`);
  return n;
}

export default class WatchdogEnvironment extends TestEnvironment {
  readonly #file: string;
  readonly #boundMs: number;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.#file = relative(config.globalConfig.rootDir, context.testPath);
    const own = config.projectConfig.testEnvironmentOptions['watchdogSeconds'];
    const fallback = process.env[TIMEOUT_ENV];
    this.#boundMs = 1000 * (own !== undefined ? seconds(own, 'watchdogSeconds') : fallback ? seconds(fallback, TIMEOUT_ENV) : DEFAULT_SECONDS);
  }

  override async setup(): Promise<void> {
    const s = watchdog();
    const name = Buffer.from(this.#file).subarray(0, SLOT_BYTES - NAME_AT);
    s.name.set(name);
    Atomics.store(s.i32, 6, name.length);
    s.f64[1] = Date.now();
    s.f64[2] = this.#boundMs;
    Atomics.store(s.i32, 1, 1);
    changed(s);
    await super.setup();
  }

  override async teardown(): Promise<void> {
    await super.teardown();
    const s = watchdog();
    Atomics.store(s.i32, 1, 0);
    changed(s);
  }
}
