// Jest's globalTeardown: removes the run's test key pool and its directory (test/helpers/global-setup.ts).
import type { PoolGlobals } from './global-setup.js';

export default function globalTeardown(): void {
  (globalThis as PoolGlobals).removeTestKeyPool?.();
}
