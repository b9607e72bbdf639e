// The local host's own behaviour: route templates, methods, bad paths, response shapes, IPv4 and IPv6 loopback.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { request } from 'node:http';
import { startHost, type RunningHost } from '../../../shared/local/host.js';

let host: RunningHost;
const seen: Array<Record<string, string>> = [];
const timerRuns: string[] = [];

beforeAll(async () => {
  host = await startHost({
    port: 0,
    http: [
      {
        name: 'echo',
        options: {
          methods: ['GET'],
          route: 'items/{id}/{sub?}',
          handler: async (req, ctx) => {
            seen.push({ ...req.params });
            ctx.log('handled');
            return { status: 201, jsonBody: { params: req.params, url: req.url } };
          },
        },
      },
    ],
    timers: [{ name: 'tick', options: { schedule: '0 0 0 1 1 *', handler: async (_t, ctx) => void timerRuns.push(ctx.functionName) } }],
    log: () => {},
  });
});
afterAll(() => host.close());

describe('local host', () => {
  test('route templates with optional parameters, jsonBody with its content type and length', async () => {
    const res = await fetch(`${host.url}/api/items/a%20b`);
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = await res.text();
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
    expect(JSON.parse(body)).toMatchObject({ params: { id: 'a b' } });
    expect((await (await fetch(`${host.url}/api/ITEMS/x/y/`)).json()) as object).toMatchObject({ params: { id: 'x', sub: 'y' } });
  });

  test('unknown paths 404, wrong methods 405, broken percent-encoding 400', async () => {
    expect((await fetch(`${host.url}/api/other`)).status).toBe(404);
    expect((await fetch(`${host.url}/api/items/x/y/z`)).status).toBe(404);
    expect((await fetch(`${host.url}/api/items/x`, { method: 'POST', body: 'x' })).status).toBe(405);
    expect((await fetch(`${host.url}/api/items/%E0%A4%A`)).status).toBe(400);
  });

  test('a bad Host header does not break the request', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${host.url}/api/items/1`, { headers: { host: 'bad host^' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(201);
  });

  test('POST /admin/functions/{name} runs a timer now; an unknown one is 404', async () => {
    expect((await fetch(`${host.url}/admin/functions/tick`, { method: 'POST' })).status).toBe(202);
    expect((await fetch(`${host.url}/admin/functions/nope`, { method: 'POST' })).status).toBe(404);
    for (let i = 0; i < 20 && timerRuns.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(timerRuns).toEqual(['tick']);
  });

  test('answers on ::1 too, for clients that resolve localhost to IPv6', async () => {
    const v6 = await fetch(`http://[::1]:${host.port}/api/items/6`).then((r) => r.status, () => 'no IPv6 here');
    // Where the machine has no IPv6 loopback the host skips it; where it has one, it must answer.
    const hasV6 = await import('node:os').then((os) => Object.values(os.networkInterfaces()).flat().some((i) => i?.address === '::1'));
    expect(v6).toBe(hasV6 ? 201 : 'no IPv6 here');
  });
});

describe('local host: request body cap', () => {
  let small: RunningHost;
  const received: number[] = [];
  const ticks: string[] = [];
  beforeAll(async () => {
    small = await startHost({
      port: 0,
      maxBodyBytes: 1024,
      http: [
        {
          name: 'upload',
          options: {
            methods: ['POST'],
            route: 'upload',
            handler: async (req) => {
              const body = await req.arrayBuffer();
              received.push(body.byteLength);
              return { status: 200, jsonBody: { bytes: body.byteLength } };
            },
          },
        },
      ],
      timers: [{ name: 'tick', options: { schedule: '0 0 0 1 1 *', handler: async () => void ticks.push('tick') } }],
      log: () => {},
    });
  });
  afterAll(() => small.close());

  /** Sends `size` bytes, declared (content-length) or chunked, and returns the status. */
  function post(path: string, size: number, chunked: boolean): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(`${small.url}${path}`, { method: 'POST', headers: chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(size) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? resolve(-1) : reject(err)));
      const part = Buffer.alloc(512, 'a');
      for (let sent = 0; sent < size; sent += part.length) req.write(part.subarray(0, Math.min(part.length, size - sent)));
      req.end();
    });
  }

  test('a body up to the cap reaches the function', async () => {
    expect(await post('/api/upload', 1024, false)).toBe(200);
    expect(await post('/api/upload', 1024, true)).toBe(200);
    expect(received).toEqual([1024, 1024]);
  });

  test('a larger body is refused with 413 before the function runs, declared or chunked', async () => {
    received.length = 0;
    expect(await post('/api/upload', 1025, false)).toBe(413);
    expect(await post('/api/upload', 64 * 1024, true)).toBe(413);
    expect(await post('/admin/functions/tick', 64 * 1024, false)).toBe(413);
    expect(received).toEqual([]);
    expect(ticks).toEqual([]);
    // The host still serves afterwards.
    expect(await post('/api/upload', 10, false)).toBe(200);
  });

  test('the default cap is 1 MiB', async () => {
    const { MAX_BODY_BYTES } = await import('../../../shared/local/host.js');
    expect(MAX_BODY_BYTES).toBe(1024 * 1024);
  });
});
