// Maskinporten's own words: its error_description reaches the problem detail and the log (sanitised, capped), and
// MP-nnn codes are found in any letter case, in error_uri or in the description. Real HttpRequest objects through
// the token function, against the Maskinporten simulator over HTTP.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { HttpRequest } from '@azure/functions';
import { tokenHandler } from '../../functions/token.js';
import { parseConfig } from '../../shared/config/config.js';
import { MAX_DESCRIPTION_LENGTH } from '../../shared/maskinporten/token-endpoint.js';
import { Runtime, setRuntime } from '../../shared/runtime.js';
import { capture } from '../helpers/capture.js';
import { startWorld, type World } from '../helpers/world.js';

let world: World;
let n = 0;

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  setRuntime(undefined);
  await world.close();
});

/** One GET /api/token with a fresh token secret (nothing cached), no retries; the problem body and the log lines. */
async function rejected(extra: Record<string, string> = {}): Promise<{ detail: string; lines: string[] }> {
  setRuntime(new Runtime(parseConfig({ ...world.env, TOKEN_SECRET: `mp-errors-${++n}`, RETRY_MAX_ATTEMPTS: '1', ...extra }), { now: world.clock.now }));
  const { context, lines } = capture();
  const res = await tokenHandler(new HttpRequest({ method: 'GET', url: 'http://127.0.0.1:7071/api/token' }), context());
  expect(res.status).toBe(503);
  const body = JSON.parse(String(res.body)) as { code: string; detail: string };
  expect(body.code).toBe('MASKINPORTEN_REJECTED');
  return { detail: body.detail, lines };
}

function fault(status: number, json: Record<string, unknown>): void {
  world.sims.maskinporten.faults.enqueue({ status, body: JSON.stringify(json), headers: { 'content-type': 'application/json' } });
}

describe("Maskinporten's error_description is passed on", () => {
  test("the simulator's own description of an unregistered scope shows up in the problem detail and the log", async () => {
    const { detail, lines } = await rejected({ MASKINPORTEN_SCOPES: 'not:registered' });
    const said = world.sims.maskinporten.requests.at(-1)!;
    expect(said).toMatchObject({ ok: false, code: 'MP-200', description: 'Scope not registered for the client: not:registered' });
    expect(detail).toMatch(/\(400: invalid_scope, MP-200, trace id [0-9a-f]+\)/);
    expect(detail).toMatch(/Maskinporten says: "Scope not registered for the client: not:registered \(trace id: [0-9a-f]+\)"$/);
    expect(lines.filter((l) => l.includes('Maskinporten says: "Scope not registered for the client'))).not.toHaveLength(0);
  });

  test('control characters are removed (no forged log lines) and the description is cut to 300 characters', async () => {
    const forged = 'Invalid assertion.\r\n[error] forged log line\u0000\u001b[31m red\u202e reversed\u2028 ';
    fault(400, { error: 'invalid_grant', error_description: forged + 'more words '.repeat(100), error_uri: 'https://docs.digdir.no/docs/Maskinporten/errors/mp-110' });
    const { detail, lines } = await rejected();
    const said = /Maskinporten says: "(.*)"$/s.exec(detail)![1]!;
    expect(said.startsWith('Invalid assertion. [error] forged log line [31m red reversed more words more')).toBe(true);
    expect([...said]).toHaveLength(MAX_DESCRIPTION_LENGTH);
    expect(said.endsWith('…')).toBe(true);
    expect(detail).not.toMatch(/[\u0000-\u001f\u007f\u202e\u2028]/);
    // the lower-case code in error_uri is found and its hint given
    expect(detail).toMatch(/\(400: invalid_grant, MP-110\): the audience is wrong/);
    for (const line of lines) expect(line).not.toMatch(/[\u0000\u001b\u202e\u2028]|\r|\n\[error\] forged/);
  });

  test('an MP code only in the description, in any case, is found', async () => {
    fault(400, { error: 'invalid_grant', error_description: 'Invalid assertion. Client signature is invalid (Mp-124). Trace id: abc123def456' });
    const { detail } = await rejected();
    expect(detail).toMatch(/\(400: invalid_grant, MP-124, trace id abc123def456\): the signature does not match the registered key/);
    expect(detail).toMatch(/Maskinporten says: "Invalid assertion\. Client signature is invalid \(Mp-124\)\. Trace id: abc123def456"$/);
  });

  test('no description, a blank one or a non-string one adds nothing', async () => {
    fault(400, { error: 'invalid_client' });
    expect((await rejected()).detail).not.toContain('Maskinporten says');
    fault(400, { error: 'invalid_client', error_description: ' \u0000\n ' });
    expect((await rejected()).detail).not.toContain('Maskinporten says');
    fault(400, { error: 'invalid_client', error_description: { nested: 'object' } });
    expect((await rejected()).detail).not.toContain('Maskinporten says');
  });

  test('a secret echoed in the description does not get through', async () => {
    fault(400, { error: 'invalid_grant', error_description: `Invalid assertion ${'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl'}` });
    const { detail } = await rejected();
    expect(detail).toContain('Maskinporten says: "Invalid assertion [REDACTED]"');
  });
});
