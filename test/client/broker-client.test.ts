// The Node client's own checks and error mapping, over real HTTP on 127.0.0.1: options refused with the option's
// name, an unreachable broker, answers that are not the broker's (a 401 without a problem document, a 200 that is
// not a token), and Retry-After parsing.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { TokenCredential } from '@azure/identity';
import { createBrokerClient, parseRetryAfter, type BrokerClientOptions } from '../../client/index.js';
import { startApiServer, type ApiServer } from './api-server.js';

const credential: TokenCredential = { getToken: async () => ({ token: 'entra-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
const base: BrokerClientOptions = { url: 'https://broker.example.net', scope: 'api://broker/.default', credential };
let api: ApiServer;

beforeAll(async () => {
  api = await startApiServer();
});
afterAll(async () => {
  await api?.close();
});

describe('createBrokerClient options', () => {
  test.each([
    [{ url: 'http://broker.example.net' }, /"url" must use https/],
    [{ url: 'not a url' }, /"url" is not an absolute URL/],
    [{ url: 'https://broker.example.net/?code=abc' }, /"url" must be a base URL/],
    [{ profile: 'Default' }, /"profile" must be a profile name/],
    [{ profile: '../admin' }, /"profile" must be a profile name/],
    [{ scope: '' }, /"scope" is required/],
    [{ credential: {} as TokenCredential }, /"credential" must be a TokenCredential/],
    [{ refreshMarginSeconds: -1 }, /"refreshMarginSeconds" must be/],
    [{ maxRetryAfterSeconds: Number.NaN }, /"maxRetryAfterSeconds" must be/],
    [{ functionKey: '' }, /"functionKey" must be/],
  ] as Array<[Partial<BrokerClientOptions>, RegExp]>)('%o is refused', (bad, message) => {
    expect(() => createBrokerClient({ ...base, ...bad })).toThrow(expect.objectContaining({ name: 'BrokerClientError', code: 'CLIENT_BAD_OPTION', message: expect.stringMatching(message) }));
  });

  test('plain http is accepted for loopback addresses only', () => {
    for (const url of ['http://127.0.0.1:7071', 'http://localhost:7071/', 'http://[::1]:7071']) expect(() => createBrokerClient({ ...base, url })).not.toThrow();
  });
});

describe('answers that are not a token', () => {
  test('an unreachable broker is BROKER_UNREACHABLE', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    await new Promise((r) => server.close(r));
    const c = createBrokerClient({ ...base, url: `http://127.0.0.1:${port}` });
    await expect(c.getToken()).rejects.toMatchObject({ code: 'BROKER_UNREACHABLE', message: expect.stringContaining(`127.0.0.1:${port}/api/token/default`) });
  });

  test('a 401 without a problem document (e.g. from App Service authentication) is BROKER_REJECTED, not retried', async () => {
    const before = api.seen.length;
    const c = createBrokerClient({ ...base, url: api.url, credential: { getToken: async () => ({ token: 'refused-entra-token', expiresOnTimestamp: Date.now() + 60_000 }) } });
    api.refused.add('refused-entra-token');
    const err = await c.getToken().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BROKER_REJECTED', status: 401, detail: 'Unauthorized' });
    expect((err as Error).message).not.toContain('refused-entra-token');
    expect(api.seen.slice(before).map((s) => s.authorization)).toEqual(['Bearer refused-entra-token']);
  });

  test('a 200 that is not a token is BROKER_BAD_RESPONSE', async () => {
    const c = createBrokerClient({ ...base, url: api.url });
    await expect(c.getToken()).rejects.toMatchObject({ code: 'BROKER_BAD_RESPONSE', status: 200, message: expect.stringMatching(/no access_token/) });
  });
});

describe('parseRetryAfter', () => {
  test('seconds, an HTTP date, or nothing', () => {
    const now = Date.UTC(2026, 10, 25, 12, 0, 0);
    expect(parseRetryAfter('7', now)).toBe(7);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 25 Nov 2026 12:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Wed, 25 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});
