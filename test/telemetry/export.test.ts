// How Entra ID-authenticated ingestion is checked offline: the real Azure Monitor set-up (shared/telemetry/azure-monitor.ts)
// in a child process exports to a local https "ingestion endpoint" named by the connection string. Every request it
// receives must carry the bearer token of the credential passed in (the managed identity in Azure), asked for the
// Azure Monitor scope, and the broker's metrics and spans must be in the envelopes. What cannot be checked here:
// that Application Insights accepts that token (needs Azure; README, "Telemetry").
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { ManagedIdentityCredential, DefaultAzureCredential } from '@azure/identity';
import { ingestionCredential } from '../../shared/telemetry/azure-monitor.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ingest-'));
const FAKE_ENTRA_TOKEN = `entra-${crypto.randomUUID()}`;
let server: Server;
const received: Array<{ path: string; authorization?: string; items: Array<Record<string, any>> }> = [];

beforeAll(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const text = body.toString('utf8').trim();
      const items = text === '' ? [] : text.startsWith('[') ? (JSON.parse(text) as Array<Record<string, any>>) : text.split('\n').map((l) => JSON.parse(l) as Record<string, any>);
      received.push({ path: req.url ?? '', ...(req.headers.authorization !== undefined && { authorization: req.headers.authorization }), items });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ itemsReceived: items.length, itemsAccepted: items.length, errors: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

test('the exporter sends every item with the bearer token of the credential given, asked for the Azure Monitor scope', async () => {
  const { port } = server.address() as AddressInfo;
  const connectionString = `InstrumentationKey=00000000-0000-4000-8000-000000000001;IngestionEndpoint=https://127.0.0.1:${port}/`;
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', 'test/telemetry/export-child.ts'],
      {
        cwd: REPO,
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          CONNECTION_STRING: connectionString,
          FAKE_ENTRA_TOKEN,
          NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem'),
          APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
          APPLICATIONINSIGHTS_SDKSTATS_DISABLED: 'true',
        },
      },
      (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)),
    ),
  );
  const { asked } = JSON.parse(stdout.trim().split('\n').pop()!) as { asked: string[] };
  expect(asked.length).toBeGreaterThan(0);
  expect(new Set(asked)).toEqual(new Set(['https://monitor.azure.com/.default']));

  const track = received.filter((r) => r.path.includes('/track'));
  expect(track.length).toBeGreaterThan(0);
  for (const r of track) expect(r.authorization).toBe(`Bearer ${FAKE_ENTRA_TOKEN}`);
  const items = track.flatMap((r) => r.items);
  const metricNames = items.filter((i) => i.data?.baseType === 'MetricData').flatMap((i) => (i.data.baseData.metrics as Array<{ name: string }>).map((m) => m.name));
  expect(metricNames).toEqual(expect.arrayContaining(['broker.refresh', 'broker.token.served', 'http.client.request.duration']));
  // what the alert rules query: customMetrics name and customDimensions
  const refresh = items.find((i) => i.data?.baseType === 'MetricData' && i.data.baseData.metrics[0].name === 'broker.refresh')!;
  expect(refresh.data.baseData.properties).toMatchObject({ 'broker.profile': 'default', 'broker.refresh.outcome': 'refreshed', 'broker.trigger': 'timer' });
  expect(refresh.data.baseData.metrics[0].value).toBe(1);
  const dependencies = items.filter((i) => i.data?.baseType === 'RemoteDependencyData').map((i) => i.data.baseData.name as string);
  expect(dependencies).toEqual(expect.arrayContaining(['Maskinporten token']));
  const requestsOrInternal = items.filter((i) => ['RequestData', 'RemoteDependencyData'].includes(i.data?.baseType)).map((i) => i.data.baseData.name as string);
  expect(requestsOrInternal).toEqual(expect.arrayContaining(['broker.refresh default']));
}, 90_000);

test('the ingestion credential is the user-assigned managed identity when AZURE_CLIENT_ID is set, else DefaultAzureCredential', async () => {
  expect(await ingestionCredential({ AZURE_CLIENT_ID: '11111111-2222-4333-8444-555555555555' })).toBeInstanceOf(ManagedIdentityCredential);
  expect(await ingestionCredential({})).toBeInstanceOf(DefaultAzureCredential);
});
