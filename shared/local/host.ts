// A small local stand-in for the Azure Functions host: serves the exported HTTP handlers under /api on node:http
// with real HttpRequest/InvocationContext objects, runs timer handlers on their NCRONTAB schedule (UTC), and
// invokes a timer on demand at POST /admin/functions/{name}, as Core Tools does. Function keys are not checked.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import azureFunctions, { type HttpHandler, type HttpResponseInit, type InvocationContext, type Timer } from '@azure/functions';
import { Cron } from 'croner';

// @azure/functions is CommonJS: these classes are not named exports under Node's ESM loader.
const { HttpRequest, InvocationContext: Context } = azureFunctions;

export interface HttpFunction {
  readonly name: string;
  readonly options: { readonly methods: readonly string[]; readonly route: string; readonly handler: HttpHandler };
}

export interface TimerFunction {
  readonly name: string;
  readonly options: { readonly schedule: string; readonly handler: (timer: Timer, ctx: InvocationContext) => Promise<void> };
}

export type LogSink = (level: string, functionName: string, message: string) => void;

export interface HostOptions {
  readonly port: number;
  readonly host?: string;
  readonly http: readonly HttpFunction[];
  readonly timers: readonly TimerFunction[];
  readonly log: LogSink;
  /** false: do not schedule timers (they can still be invoked through /admin/functions/{name}). */
  readonly schedule?: boolean;
  /** Largest request body accepted; a larger one is answered 413 without being read. Default MAX_BODY_BYTES. */
  readonly maxBodyBytes?: number;
}

/** 1 MiB: far more than any request to this app needs (its routes take no body). */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface RunningHost {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

interface Route {
  readonly fn: HttpFunction;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

/** Compiles an Azure Functions route template such as `token/{profile?}` into a matcher under /api. */
export function compileRoute(fn: HttpFunction): Route {
  const names: string[] = [];
  const body = fn.options.route
    .split('/')
    .map((segment) => {
      const m = /^\{(\w+)(\?)?(?::[^}]*)?\}$/.exec(segment);
      if (!m) return `/${segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
      names.push(m[1]!);
      return m[2] ? '(?:/([^/]+))?' : '/([^/]+)';
    })
    .join('');
  return { fn, pattern: new RegExp(`^/api${body}/?$`, 'i'), names };
}

export async function startHost(options: HostOptions): Promise<RunningHost> {
  const routes = options.http.map(compileRoute);
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res, routes, options).catch((err: unknown) => {
      options.log('error', 'host', `Unhandled error: ${err instanceof Error ? err.name : 'unknown'}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  };
  const server = createServer(listener);
  server.keepAliveTimeout = 5_000;
  const crons = options.schedule === false ? [] : options.timers.map((t) => scheduleTimer(t, options.log));
  const address = options.host ?? '127.0.0.1';
  await listen(server, options.port, address);
  const port = (server.address() as AddressInfo).port;
  const servers = [server];
  if (options.host === undefined) {
    // "localhost" may resolve to ::1 first: answer there too, on the same port, where the machine has IPv6.
    const v6 = createServer(listener);
    if (await listen(v6, port, '::1').then(() => true, () => false)) servers.push(v6);
  }
  return {
    url: `http://${address}:${port}`,
    port,
    close: () => closeServers(servers, crons),
  };
}

function listen(server: Server, port: number, address: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, routes: readonly Route[], options: HostOptions): Promise<void> {
  const url = requestUrl(req);
  const admin = /^\/admin\/functions\/([\w-]+)$/.exec(url.pathname);
  if (admin && req.method === 'POST') {
    const timer = options.timers.find((t) => t.name.toLowerCase() === admin[1]!.toLowerCase());
    if (!timer) return void res.writeHead(404).end();
    if ((await readBody(req, res, options)) === undefined) return;
    res.writeHead(202).end();
    await runTimer(timer, options.log);
    return;
  }
  for (const route of routes) {
    const m = route.pattern.exec(url.pathname);
    if (!m) continue;
    if (!route.fn.options.methods.includes(req.method ?? 'GET')) return void res.writeHead(405).end();
    const params = routeParams(route, m);
    if (!params) return void res.writeHead(400).end();
    const body = hasBody(req) ? await readBody(req, res, options) : EMPTY;
    if (body === undefined) return;
    const request = new HttpRequest({
      method: req.method ?? 'GET',
      url: url.href,
      headers: headersOf(req),
      params,
      ...(body.length > 0 && { body: { bytes: body } }),
    });
    const context = invocationContext(route.fn.name, options.log);
    return send(res, await route.fn.options.handler(request, context), req.method ?? 'GET');
  }
  res.writeHead(404).end();
}

function send(res: ServerResponse, out: HttpResponseInit, method: string): void {
  const headers = headerRecord(out.headers);
  let body: string | Uint8Array | undefined;
  if (out.jsonBody !== undefined) {
    body = JSON.stringify(out.jsonBody);
    headers['content-type'] ??= 'application/json';
  } else if (typeof out.body === 'string' || out.body instanceof Uint8Array) {
    body = out.body;
  }
  const status = out.status ?? 200;
  // A known length, as the Functions host sends: one write per response instead of chunked framing.
  if (body !== undefined && headers['content-length'] === undefined && hasContent(status, method)) {
    headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
  }
  res.writeHead(status, headers);
  res.end(body);
}

/** The response headers as a record with lower-case names; a plain object (the usual case) skips `Headers`. */
function headerRecord(init: HttpResponseInit['headers']): Record<string, string> {
  if (init === undefined) return {};
  if (Object.getPrototypeOf(init) !== Object.prototype) return Object.fromEntries(new Headers(init as HeadersInit));
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(init as Record<string, string>)) {
    const key = name.toLowerCase();
    const v = String(value).trim();
    out[key] = out[key] === undefined ? v : `${out[key]}, ${v}`;
  }
  return out;
}

function hasContent(status: number, method: string): boolean {
  return status >= 200 && status !== 204 && status !== 304 && method !== 'HEAD';
}

function invocationContext(functionName: string, log: LogSink): InvocationContext {
  return new Context({
    functionName,
    invocationId: crypto.randomUUID(),
    logHandler: (level, ...args) => log(level, functionName, args.map(String).join(' ')),
  });
}

function scheduleTimer(timer: TimerFunction, log: LogSink): Cron {
  return new Cron(timer.options.schedule, { timezone: 'Etc/UTC', protect: true }, () => runTimer(timer, log));
}

async function runTimer(timer: TimerFunction, log: LogSink): Promise<void> {
  const now = new Date();
  try {
    await timer.options.handler(
      { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: now.toISOString(), next: '', lastUpdated: now.toISOString() } },
      invocationContext(timer.name, log),
    );
  } catch (err) {
    log('error', timer.name, `Invocation failed: ${err instanceof Error ? err.message : 'unknown error'}`);
  }
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

const EMPTY = Buffer.alloc(0);

/** Whether the request carries a body (RFC 9112 §6.3): a GET without one needs no stream read at all. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The request body, or undefined once a 413 has been sent because it is larger than the cap (declared or read). */
function readBody(req: IncomingMessage, res: ServerResponse, options: HostOptions): Promise<Buffer | undefined> {
  const max = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const tooLarge = () => {
    // The rest of the body is not read: the connection is closed once the answer is out.
    res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' }).end(`Request body larger than ${max} bytes.\n`);
    return undefined;
  };
  if (Number(req.headers['content-length'] ?? 0) > max) return Promise.resolve(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) return void chunks.push(chunk);
      req.off('data', onData).off('end', onEnd).pause();
      resolve(tooLarge());
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    req.on('data', onData).once('end', onEnd).once('error', reject);
    req.once('close', () => resolve(undefined)); // the client went away: nothing to answer
  });
}

function requestUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
  } catch {
    return new URL(req.url ?? '/', 'http://127.0.0.1');
  }
}

/** Route values, percent-decoded; undefined when one is not valid percent-encoding. */
function routeParams(route: Route, m: RegExpExecArray): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  try {
    route.names.forEach((name, i) => {
      const v = m[i + 1];
      if (v !== undefined) params[name] = decodeURIComponent(v);
    });
  } catch {
    return undefined;
  }
  return params;
}

async function closeServers(servers: readonly Server[], crons: readonly Cron[]): Promise<void> {
  crons.forEach((c) => c.stop());
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
}
