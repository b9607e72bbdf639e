// Key source 3 end to end: a business certificate in Key Vault (MASKINPORTEN_CERTIFICATE). The grant carries x5c
// (leaf from the certificate's `cer`, then MASKINPORTEN_CERTIFICATE_CHAIN) and no kid, is signed by the
// certificate's key in the vault, and the Maskinporten simulator checks it against a test CA. The certificate's
// secret (which holds its private key in a real vault) is never read.
import { afterEach, describe, expect, test } from '@jest/globals';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { healthDetailsHandler } from '../../functions/health-details.js';
import { parseConfig } from '../../shared/config/config.js';
import { Runtime, setRuntime } from '../../shared/runtime.js';
import { capture } from '../helpers/capture.js';
import { makeCertificate, makeTestCa, type LeafOptions, type TestCa } from '../helpers/certificates.js';
import { startHostProcess, type HostProcess } from '../helpers/host-process.js';
import { testEcKey, testRsaKey } from '../helpers/key-pool.js';
import { startWorld, type World } from '../helpers/world.js';

const CERT = 'business-cert';
const ORG = '999888777'; // the simulator's default organisation of a client
let world: World | undefined;
let host: HostProcess | undefined;
afterEach(async () => {
  setRuntime(undefined);
  await host?.stop();
  host = undefined;
  await world?.close();
  world = undefined;
});

interface CertWorld {
  w: World;
  env: Record<string, string>;
  leaf: Buffer;
}

/** A world whose vault holds a business certificate issued by `issuer` (default: a root CA the Maskinporten
 *  simulator trusts), imported with its key; the settings name it instead of a key secret. */
async function certificateWorld(o: Partial<LeafOptions> & { issuer?: TestCa; root?: TestCa; keyType?: 'rsa' | 'ec' } = {}): Promise<CertWorld> {
  const w = await startWorld();
  world = w;
  const root = o.root ?? makeTestCa();
  w.sims.maskinporten.addTrustedCa(root.cer);
  const keys = o.keyType === 'ec' ? testEcKey('P-256') : testRsaKey('certificate');
  const leaf = makeCertificate(o.issuer ?? root, { orgNumber: ORG, ...o, publicKey: keys.publicKey });
  w.sims.keyVault.keys.importCertificate(CERT, { cer: leaf, privateKey: keys.privateKey });
  // In Key Vault a certificate also has a secret of its name holding the private key: the broker must never read it.
  w.sims.keyVault.setSecret(CERT, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { contentType: 'application/x-pem-file' });
  const { MASKINPORTEN_KEY_SECRET: _secret, MASKINPORTEN_KID: _kid, ...rest } = w.env;
  return { w, env: { ...rest, MASKINPORTEN_CERTIFICATE: CERT }, leaf };
}

const certificateSecretReads = (w: World) => w.sims.keyVault.requests.filter((r) => r.path.startsWith(`/secrets/${CERT}`));

describe('MASKINPORTEN_CERTIFICATE', () => {
  test('mints, exchanges and stores a token with an x5c grant signed by the certificate\'s key in the vault', async () => {
    const { w, env, leaf } = await certificateWorld();
    const { log, lines } = capture();
    const token = await new Runtime(parseConfig(env)).broker().getToken(log);
    const accepted = w.sims.maskinporten.requests.filter((r) => r.ok);
    expect(accepted).toHaveLength(1);
    expect(accepted[0]!.header).toEqual({ alg: 'RS256', x5c: [leaf.toString('base64')] });
    expect(token.kind).toBe('altinn');
    expect(w.sims.keyVault.getSecret('altinn-token')!.value).toBe(token.token);
    expect(certificateSecretReads(w)).toEqual([]);
    expect([...new Set(w.sims.keyVault.keys.operations.map((o) => o.op))].sort()).toEqual(['get', 'get-certificate', 'sign']);
    expect(lines.join('\n')).toMatch(/Signing with Key Vault certificate "business-cert" \(MASKINPORTEN_CERTIFICATE\) version [0-9a-f]{32} \(CN=TEST ORG AS, serialNumber=999888777, .*valid until/);
  });

  test('MASKINPORTEN_CERTIFICATE_CHAIN sends the intermediate after the leaf', async () => {
    const root = makeTestCa('Test Root CA');
    const intermediate = makeTestCa('Test Intermediate CA', root);
    const { w, env, leaf } = await certificateWorld({ root, issuer: intermediate });
    await expect(new Runtime(parseConfig(env)).broker().getToken(capture().log)).rejects.toMatchObject({ code: 'NO_VALID_TOKEN' });
    expect(w.sims.maskinporten.requests.at(-1)!.description).toMatch(/does not chain/);
    const chained = { ...env, MASKINPORTEN_CERTIFICATE_CHAIN: intermediate.cer.toString('base64') };
    await new Runtime(parseConfig(chained)).broker().getToken(capture().log);
    expect(w.sims.maskinporten.requests.at(-1)).toMatchObject({ ok: true, header: { x5c: [leaf.toString('base64'), intermediate.cer.toString('base64')] } });
  });

  const bad: Array<[string, Parameters<typeof certificateWorld>[0], string, RegExp]> = [
    ['an expired certificate', { notBefore: new Date(Date.now() - 2 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) }, 'CERTIFICATE_EXPIRED', /expired at .*order a new business certificate/],
    ['a certificate not yet valid', { notBefore: new Date(Date.now() + 86_400_000) }, 'CERTIFICATE_NOT_YET_VALID', /is not valid before/],
    ['a certificate without an RSA key', { keyType: 'ec' }, 'KEY_NOT_RSA', /has a ec key; Maskinporten needs RSA/],
  ];
  test.each(bad)('%s is refused before anything is signed', async (_name, o, code, message) => {
    const { w, env } = await certificateWorld(o);
    await expect(new Runtime(parseConfig(env)).broker().getToken(capture().log)).rejects.toMatchObject({ cause: { code, message: expect.stringMatching(message) } });
    expect(w.sims.keyVault.keys.operations.filter((op) => op.op === 'sign')).toEqual([]);
    expect(w.sims.maskinporten.requests).toEqual([]);
  });

  test('a certificate that does not exist is CERTIFICATE_NOT_FOUND', async () => {
    const { env } = await certificateWorld();
    await expect(new Runtime(parseConfig({ ...env, MASKINPORTEN_CERTIFICATE: 'no-cert' })).broker().getToken(capture().log)).rejects.toMatchObject({
      cause: { code: 'CERTIFICATE_NOT_FOUND', message: expect.stringContaining('Key Vault certificate "no-cert" (MASKINPORTEN_CERTIFICATE) does not exist') },
    });
  });

  test('health shows the certificate\'s subject and expiry; within 30 days of expiry it is degraded with what to do', async () => {
    const notAfter = new Date(Date.now() + 20 * 86_400_000 + 60_000);
    const { env } = await certificateWorld({ notAfter });
    const runtime = new Runtime(parseConfig(env));
    await runtime.broker().getToken(capture().log);
    setRuntime(runtime);
    const res = await healthDetailsHandler(new HttpRequest({ method: 'GET', url: 'http://127.0.0.1/api/health/details' }), new InvocationContext());
    const body = JSON.parse(String(res.body)) as { status: string; profiles: Array<{ key?: Record<string, unknown> }> };
    expect(body.status).toBe('degraded');
    expect(body.profiles[0]!.key).toMatchObject({
      source: 'certificate',
      name: CERT,
      subject: expect.stringContaining('serialNumber=999888777'),
      expiresAt: new Date(Math.floor(notAfter.getTime() / 1000) * 1000).toISOString(),
      expiresInDays: 20,
      warning: expect.stringContaining('order a renewed business certificate and import it as a new version'),
    });
    expect(body.profiles[0]!.key).not.toHaveProperty('kid');
  });

  test('npm run host serves a token from a certificate grant', async () => {
    const { w, env, leaf } = await certificateWorld();
    // An hourly timer (its longest gap is within REFRESH_BEFORE_EXPIRY_SECONDS): a yearly one is refused as a conflict.
    host = await startHostProcess({ ...env, REFRESH_SCHEDULE: '0 0 * * * *', REFRESH_BEFORE_EXPIRY_SECONDS: '3600' });
    const res = await fetch(`${host.url}/api/token`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string };
    expect(w.sims.keyVault.getSecret('altinn-token')!.value).toBe(body.access_token);
    expect(w.sims.maskinporten.requests.filter((r) => r.ok).map((r) => r.header)).toEqual([{ alg: 'RS256', x5c: [leaf.toString('base64')] }]);
    expect(certificateSecretReads(w)).toEqual([]);
    expect(host.output()).not.toContain(body.access_token);
  }, 60_000);
});
