// Load generation for the bench, on loopback only: fixed-duration or fixed-count autocannon runs with sub-millisecond
// latency percentiles, and a burst of N simultaneous requests on N connections.
import { Agent, get } from 'node:http';
import autocannon from 'autocannon';

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly reqPerSec: number;
  /** From every 2xx response's own time, in ms (autocannon's histogram rounds to whole ms). */
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly errors: number;
}

export interface LoadOptions {
  readonly connections: number;
  /** Seconds; ignored when `amount` is set. */
  readonly duration?: number;
  /** Stop after this many requests. */
  readonly amount?: number;
}

/** One autocannon run against `url` (GET, no pipelining, keep-alive connections). */
export function load(url: string, o: LoadOptions): Promise<LoadResult> {
  const times: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: o.connections,
        pipelining: 1,
        timeout: 10,
        ...(o.amount !== undefined ? { amount: o.amount } : { duration: o.duration ?? 5 }),
      },
      (err, result) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        times.sort((a, b) => a - b);
        const seconds = (result.finish.getTime() - result.start.getTime()) / 1000;
        const total = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
        resolve({
          requests: total,
          seconds,
          reqPerSec: total / seconds,
          p50: percentile(times, 0.5),
          p99: percentile(times, 0.99),
          non2xx: result.non2xx,
          errors: result.errors,
        });
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) times.push(ms);
    });
  });
}

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 0.5);
}

export interface BurstResult {
  readonly statuses: Record<number, number>;
  readonly errors: number;
  /** Distinct access tokens among the 200s (1 when every caller got the same token). */
  readonly distinctTokens: number;
  readonly ms: number;
}

/** `n` GET requests started in the same tick, each on its own new connection. */
export async function burst(url: string, n: number): Promise<BurstResult> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const statuses: Record<number, number> = {};
  const bodies = new Set<string>();
  let errors = 0;
  const start = performance.now();
  await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<void>((resolve) => {
          const req = get(url, { agent, timeout: 30_000 }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
              if (res.statusCode === 200) bodies.add(Buffer.concat(chunks).toString());
              resolve();
            });
            res.on('error', () => {
              errors++;
              resolve();
            });
          });
          req.on('timeout', () => req.destroy(new Error('timeout')));
          req.on('error', () => {
            errors++;
            resolve();
          });
        }),
    ),
  );
  agent.destroy();
  // The tokens' expires_in may differ by a second between callers: compare the tokens themselves.
  const tokens = new Set([...bodies].map((b) => (JSON.parse(b) as { access_token?: string }).access_token));
  return { statuses, errors, distinctTokens: tokens.size, ms: performance.now() - start };
}
