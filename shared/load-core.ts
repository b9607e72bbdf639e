// Loads shared/core.ts once, on first use, so that importing a function module stays cheap (cold start).
type Core = typeof import('./core.js');

let core: Promise<Core> | undefined;

export function loadCore(): Promise<Core> {
  core ??= import('./core.js');
  return core;
}
