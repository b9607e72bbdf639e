// Stopping the local processes (host, demo, simulators) whatever stops them: SIGINT (Ctrl+C), SIGTERM (a process
// manager, an IDE's stop button, CI), SIGHUP (the terminal closed), or the process that started this one going
// away without a word (npm does not pass SIGHUP on, and a parent killed outright sends nothing): then this
// process is re-parented, its parent pid changes, and it stops too rather than keep its ports bound.

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** The parent pid when this module loaded, early at start-up. Read at registration instead, it could already be the
 *  re-parented pid: a parent that exits while this process is still starting (a signal right after the first
 *  output line, say) would then never be noticed. */
const STARTED_BY = process.ppid;

/** How often the parent pid is checked; a stop this way takes at most this long to begin. */
export const PARENT_POLL_MS = 500;

/** A graceful stop that has not finished after this long ends the process anyway (exit code 1). */
export const FORCE_EXIT_MS = 5_000;

export interface ShutdownOptions {
  /** Told why the process stops (e.g. "SIGTERM", "parent process exited"). */
  readonly onStop?: (reason: string) => void;
  readonly pollMs?: number;
  readonly forceExitMs?: number;
}

/**
 * Runs `stop` once on the first of SIGINT, SIGTERM, SIGHUP or the parent's exit, then exits with its code
 * (0 when it resolves without one). A second signal while stopping exits at once.
 */
export function stopOnExitRequest(stop: (reason: string) => Promise<number | void>, options: ShutdownOptions = {}): void {
  let stopping = false;
  const parent = STARTED_BY;
  const poll = setInterval(() => {
    if (process.ppid !== parent) begin('parent process exited');
  }, options.pollMs ?? PARENT_POLL_MS);
  poll.unref();
  if (process.ppid !== parent) queueMicrotask(() => begin('parent process exited'));

  function begin(reason: string): void {
    if (stopping) {
      if (reason.startsWith('SIG')) process.exit(1);
      return;
    }
    stopping = true;
    clearInterval(poll);
    options.onStop?.(reason);
    setTimeout(() => process.exit(1), options.forceExitMs ?? FORCE_EXIT_MS).unref();
    stop(reason).then(
      (code) => process.exit(code ?? 0),
      () => process.exit(1),
    );
  }
  for (const signal of STOP_SIGNALS) process.on(signal, () => begin(signal));
  // Whoever read our output is gone (EPIPE): that is a reason to stop, not to crash half-way.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      begin('output closed');
    });
  }
}
