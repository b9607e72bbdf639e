// Deterministic fault injection for the simulators: a bounded FIFO of faults, one consumed per incoming
// request (any route) before normal handling.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendText } from './http-util.js';

export interface Fault {
  /** Answer with this status instead of handling the request. */
  status?: number;
  /** Body for `status` or `malformed`; defaults to the simulator's usual error body / garbage. */
  body?: string;
  /** Extra response headers (also added to a normally handled response when the fault has no status). */
  headers?: Record<string, string>;
  /** Wait this long first; alone, the request is then handled normally. */
  delayMs?: number;
  /** 200 with a body that is not what the client expects. */
  malformed?: boolean;
  /** Destroy the socket without answering. */
  dropConnection?: boolean;
}

export interface FaultQueueOptions {
  /** Body and content type for a `status` fault without `body`. */
  errorBody?: (status: number) => { contentType: string; body: string };
  /** Content type of a `malformed` answer (default application/json, so a JSON parser trips on it). */
  malformedContentType?: string;
}

export type FaultOutcome = 'continue' | 'answered' | 'dropped';

export const MAX_QUEUED_FAULTS = 1000;
export const MAX_FAULT_DELAY_MS = 60_000;
const GARBAGE = '<html><body>502 Bad Gateway</body>{"not": json';

/** A 429 with `Retry-After` (seconds), the way Azure and most APIs throttle. */
export function throttle(retryAfterSeconds = 1): Fault {
  return { status: 429, headers: { 'Retry-After': String(retryAfterSeconds) } };
}

export class FaultQueue {
  readonly #queue: Fault[] = [];
  readonly #timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  readonly #options: FaultQueueOptions;
  #consumed = 0;
  #disposed = false;

  constructor(options: FaultQueueOptions = {}) {
    this.#options = options;
  }

  /** Queues faults in order; throws RangeError on a fault that makes no sense or when the queue is full. */
  enqueue(...faults: Fault[]): void {
    if (this.#queue.length + faults.length > MAX_QUEUED_FAULTS) {
      throw new RangeError(`FaultQueue holds at most ${MAX_QUEUED_FAULTS} faults`);
    }
    faults.forEach(validate);
    this.#queue.push(...faults.map((f) => ({ ...f })));
  }

  clear(): void {
    this.#queue.length = 0;
  }

  /** Faults still waiting for a request. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Faults taken by requests so far. */
  get consumed(): number {
    return this.#consumed;
  }

  /** Applies the next fault, if any, to this request. 'continue' means: handle it normally. */
  async apply(req: IncomingMessage, res: ServerResponse): Promise<FaultOutcome> {
    const fault = this.#queue.shift();
    if (!fault) return 'continue';
    this.#consumed++;
    if (fault.delayMs) await this.#sleep(fault.delayMs);
    if (this.#disposed || res.destroyed) return 'dropped';
    if (fault.dropConnection) {
      req.socket.destroy();
      return 'dropped';
    }
    if (fault.malformed) {
      sendText(res, 200, fault.body ?? GARBAGE, this.#options.malformedContentType ?? 'application/json', fault.headers);
      return 'answered';
    }
    if (fault.status !== undefined) {
      const fallback = this.#options.errorBody?.(fault.status) ?? { contentType: 'text/plain', body: '' };
      const contentType = fault.body === undefined ? fallback.contentType : 'text/plain; charset=utf-8';
      sendText(res, fault.status, fault.body ?? fallback.body, contentType, fault.headers);
      return 'answered';
    }
    for (const [name, value] of Object.entries(fault.headers ?? {})) res.setHeader(name, value);
    return 'continue';
  }

  /** Drops queued faults and wakes delayed requests (their sockets are closed by the server). */
  dispose(): void {
    this.#disposed = true;
    this.clear();
    for (const t of this.#timers) {
      clearTimeout(t.timer);
      t.resolve();
    }
    this.#timers.clear();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.#timers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.#timers.add(entry);
    });
  }
}

function validate(f: Fault): void {
  if (f.status !== undefined && (!Number.isInteger(f.status) || f.status < 200 || f.status > 599)) {
    throw new RangeError(`fault status must be an integer from 200 to 599, got ${f.status}`);
  }
  if (f.delayMs !== undefined && (!Number.isFinite(f.delayMs) || f.delayMs < 0 || f.delayMs > MAX_FAULT_DELAY_MS)) {
    throw new RangeError(`fault delayMs must be from 0 to ${MAX_FAULT_DELAY_MS}`);
  }
  const kinds = [f.status !== undefined, f.malformed === true, f.dropConnection === true].filter(Boolean).length;
  if (kinds > 1) throw new RangeError('a fault is at most one of status, malformed, dropConnection');
}
