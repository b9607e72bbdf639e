// A stand-in for an Altinn API on 127.0.0.1: records the Authorization header of every request, answers 401 to
// the tokens it is told to refuse (as Altinn does for a revoked or replaced token) and 200 to the others.
import { listen, readBody, sendJson } from '../sim/http-util.js';

export interface ApiServer {
  readonly url: string;
  /** Authorization header and body of each request, in order. */
  readonly seen: Array<{ authorization: string | undefined; body: string }>;
  /** Tokens answered with 401. */
  readonly refused: Set<string>;
  close(): Promise<void>;
}

export async function startApiServer(): Promise<ApiServer> {
  const seen: ApiServer['seen'] = [];
  const refused = new Set<string>();
  const server = await listen(async (req, res) => {
    const body = (await readBody(req))?.toString('utf8') ?? '';
    const authorization = req.headers.authorization;
    seen.push({ authorization, body });
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (token === undefined || refused.has(token)) {
      sendJson(res, 401, { title: 'Unauthorized' }, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
      return;
    }
    sendJson(res, 200, { ok: true, echo: body });
  });
  return { url: server.url, seen, refused, close: () => server.close() };
}
