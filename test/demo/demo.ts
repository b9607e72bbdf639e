// `npm start`: the whole flow on this machine in seconds, no Azure account, no internet. Starts the Maskinporten,
// Altinn, Key Vault and Entra ID simulators, generates a client key and stores it base64-encoded in the simulated
// vault, starts the local Functions host against them with caller authorization on, runs a refresh and fetches the
// token with a caller token from the Entra ID simulator. `--once` exits after that; otherwise it prints curl lines
// that carry a caller token and keeps running, showing the host's log lines (timer runs, requests) until it is
// stopped: SIGINT, SIGTERM or SIGHUP, or npm (its parent) going away, stops the host and the simulators and frees
// their ports.
import { decodeJwt } from 'jose';
import { generateClientKey } from '../../shared/keys/keygen.js';
import { stopOnExitRequest } from '../../shared/local/lifecycle.js';
import { startHostProcess, type HostProcess } from '../helpers/host-process.js';
import { startAllSims, type AllSims } from '../sim/index.js';

const once = process.argv.includes('--once');
const step = (n: number, text: string) => console.log(`\n${n}. ${text}`);
const detail = (text: string) => console.log(`   ${text}`);

let sims: AllSims | undefined;
let host: HostProcess | undefined;
const shutdown = async () => {
  await host?.stop();
  await sims?.close();
};
stopOnExitRequest(shutdown, { onStop: (reason) => console.log(`\n${reason}: stopping the host and the simulators.`) });

async function main(): Promise<void> {
  console.log('Maskinporten/Altinn token broker: local demo (simulated Maskinporten, Altinn and Key Vault on 127.0.0.1)');

  step(1, 'Starting the simulators');
  sims = await startAllSims();
  detail(`Maskinporten  ${sims.maskinporten.issuer}  (token endpoint ${sims.maskinporten.tokenEndpoint})`);
  detail(`Altinn        ${sims.altinn.url}`);
  detail(`Key Vault     ${sims.keyVault.url}`);
  detail(`Entra ID      ${sims.entra.url}  (tenant ${sims.entra.tenantId}; signs the callers' access tokens)`);

  step(2, 'Generating a client key and registering it, as in the Maskinporten self-service portal');
  const clientId = crypto.randomUUID();
  const key = generateClientKey('demo', 'test');
  sims.maskinporten.addClient({ clientId, scopes: ['altinn:serviceowner'], keys: [key.publicJwk as never], orgNo: '991825827' });
  detail(`client id ${clientId}, scope altinn:serviceowner, public key kid ${key.kid}`);

  step(3, 'Storing the private key base64-encoded in the (simulated) Key Vault');
  const keyVersion = sims.keyVault.setSecret('maskinporten-key', key.base64, { contentType: 'application/jwk+json;base64' });
  detail(`secret "maskinporten-key" version ${keyVersion}`);

  step(4, 'Starting the Functions app in the local host (npm run host) with these settings');
  const settings = {
    KEY_VAULT_URL: sims.keyVault.url,
    MASKINPORTEN_CLIENT_ID: clientId,
    MASKINPORTEN_SCOPES: 'altinn:serviceowner',
    MASKINPORTEN_KEY_SECRET: 'maskinporten-key',
    MASKINPORTEN_ISSUER: sims.maskinporten.issuer,
    ALTINN_URL: sims.altinn.url,
    TOKEN_SECRET: 'altinn-token',
    // caller authorization: GET /api/token needs an Entra ID access token with an app role (README, "App roles")
    ...sims.entra.settings(),
  };
  for (const [k, v] of Object.entries(settings)) detail(`${k}=${v}`);
  const port = process.env.PORT ?? '7071';
  // The host runs as node's own child (not through npm), so that it stops by itself if this process is killed outright.
  host = await startHostProcess({ ...settings, PORT: port }, undefined, { direct: true }).catch(() => {
    detail(`port ${port} is taken; using a free one`);
    return startHostProcess(settings, undefined, { direct: true });
  });
  detail(`listening on ${host.url}`);

  const stop = async (code: number) => {
    await shutdown();
    process.exit(code);
  };

  step(5, 'Running the refresh timer once (POST /admin/functions/refreshTokens)');
  await fetch(`${host.url}/admin/functions/refreshTokens`, { method: 'POST' });
  const healthReader = await sims.entra.issueToken({ roles: ['Health.Read'] });
  type Health = { status?: string; profiles?: Array<{ lastRefresh?: { outcome: string; error?: string }; tokenExpiresAt?: string }> };
  let health: Health = {};
  for (let i = 0; i < 100 && !health.profiles?.[0]?.lastRefresh; i++) {
    await new Promise((r) => setTimeout(r, 100));
    health = (await (await fetch(`${host.url}/api/health/details`, { headers: { authorization: `Bearer ${healthReader}` } })).json()) as Health;
  }
  const last = health.profiles?.[0]?.lastRefresh;
  if (last?.outcome !== 'refreshed') {
    detail(`refresh did not succeed: ${last?.outcome ?? 'no answer'} ${last?.error ?? ''}`);
    detail(host.output());
    return stop(1);
  }
  for (const line of host.output().split('\n').filter((l) => l.includes('] refreshTokens:'))) detail(`host: ${line.replace(/^\S+ /, '')}`);
  const grant = sims.maskinporten.requests.find((r) => r.ok);
  detail(`Maskinporten accepted the signed grant: ${JSON.stringify(grant?.header)} ${JSON.stringify(grant?.claims)}`);
  detail(`Altinn exchanged the Maskinporten token (${sims.altinn.exchanges} exchange)`);
  const stored = sims.keyVault.getSecret('altinn-token')!;
  detail(`Key Vault secret "altinn-token" version ${stored.version}, contentType ${stored.contentType}, exp ${new Date(stored.attributes.exp! * 1000).toISOString()}`);
  const claims = decodeJwt(stored.value);
  detail(`token claims (the token itself is not printed): ${JSON.stringify({ iss: claims.iss, client_id: claims.client_id, scope: claims.scope, 'urn:altinn:orgNumber': claims['urn:altinn:orgNumber'], exp: claims.exp })}`);

  step(6, 'Fetching it over HTTP as another service would, with an Entra ID access token carrying an app role');
  const anonymous = await fetch(`${host.url}/api/token`);
  detail(`GET /api/token without a caller token -> ${anonymous.status} (${anonymous.headers.get('www-authenticate')})`);
  const consumer = { oid: crypto.randomUUID(), appId: crypto.randomUUID() };
  const callerToken = await sims.entra.issueToken({ roles: ['Tokens.Read.All', 'Health.Read'], expiresIn: 8 * 3600, ...consumer });
  const res = await fetch(`${host.url}/api/token`, { headers: { authorization: `Bearer ${callerToken}` } });
  const body = (await res.json()) as { access_token: string; expires_in: number; expires_at: string };
  detail(`GET /api/token as app ${consumer.appId} (roles Tokens.Read.All, Health.Read) -> ${res.status}, expires_in ${body.expires_in} s, same token as in Key Vault: ${body.access_token === stored.value}`);
  for (const line of host.output().split('\n').filter((l) => l.includes('{"audit":"token"') && l.includes('"served"'))) detail(`audit: ${line.replace(/^.*?(\{"audit")/, '$1')}`);
  // With --once everything stops right here: a curl line would point at a port nobody listens on any more.
  if (once) {
    console.log('\nDone (--once): stopping the host and the simulators. Run "npm start" without --once to keep them running and try them with curl.');
    return stop(0);
  }
  console.log(
    `\nTry it yourself (the caller token is from the local Entra ID simulator, valid 8 hours):\n` +
      `   curl -s -H "Authorization: Bearer ${callerToken}" ${host.url}/api/token\n` +
      `   curl -s ${host.url}/api/health\n` +
      `   curl -s -H "Authorization: Bearer ${callerToken}" ${host.url}/api/health/details\n` +
      `   curl -s -X POST ${host.url}/admin/functions/refreshTokens`,
  );
  console.log('\nThe broker keeps running with its timer; its log lines follow. Press Ctrl+C to stop.\n');
  host.follow((text) => process.stdout.write(text));
}

main().catch((err: unknown) => {
  console.error(`Demo failed: ${err instanceof Error ? err.message : String(err)}`);
  void shutdown().finally(() => process.exit(1));
});
