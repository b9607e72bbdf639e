// Manual-testing entry (`npx tsx test/sim/run-sims.ts`): starts the simulators, registers a client with a
// fresh RSA key (private key seeded into the vault simulator), prints URLs and settings (and a caller token for the
// Entra ID simulator), stops on SIGINT/SIGTERM.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import { startAllSims } from './index.js';

const SCOPES = ['altinn:serviceowner', 'altinn:serviceowner/instances.read', 'altinn:authentication/systemuser.request.write'];
const KEY_SECRET = 'maskinporten-key';

const sims = await startAllSims();
const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
const kid = `broker-TEST.${randomUUID().slice(0, 8)}`;
const clientId = randomUUID();
const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
sims.maskinporten.addClient({ clientId, orgNo: '991825827', scopes: SCOPES, keys: [publicJwk], systemUsers: ['310454578'] });
// The key is stored the way users store it (protocol.md §5): base64 of the private JWK JSON.
const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
const version = sims.keyVault.setSecret(KEY_SECRET, Buffer.from(JSON.stringify(privateJwk)).toString('base64'));

const lines = [
  'Simulators running on 127.0.0.1 (Ctrl+C to stop):',
  `  Maskinporten  ${sims.maskinporten.issuer}  (token ${sims.maskinporten.tokenEndpoint}, jwks ${sims.maskinporten.jwksUri})`,
  `  Altinn        ${sims.altinn.url}`,
  `  Key Vault     ${sims.keyVault.url}  (secret ${KEY_SECRET}, version ${version})`,
  `  Entra ID      ${sims.entra.url}  (tenant ${sims.entra.tenantId}, keys ${sims.entra.jwksUri})`,
  `Client ${clientId} (org 991825827, system user for 310454578), kid ${kid}, scopes: ${SCOPES.join(' ')}`,
  '',
  'Settings (shared/config.ts names):',
  `KEY_VAULT_URL=${sims.keyVault.url}`,
  `MASKINPORTEN_ISSUER=${sims.maskinporten.issuer}`,
  `MASKINPORTEN_TOKEN_URL=${sims.maskinporten.tokenEndpoint}`,
  `ALTINN_URL=${sims.altinn.url}`,
  `MASKINPORTEN_CLIENT_ID=${clientId}`,
  `MASKINPORTEN_SCOPES=${SCOPES[0]}`,
  `MASKINPORTEN_KEY_SECRET=${KEY_SECRET}`,
  `MASKINPORTEN_KID=${kid}`,
  '',
  'Caller authorization (optional):',
  ...Object.entries(sims.entra.settings()).map(([k, v]) => `${k}=${v}`),
  `A caller token with Tokens.Read.All and Health.Read (valid 1 hour):`,
  `  ${await sims.entra.issueToken({ roles: ['Tokens.Read.All', 'Health.Read'] })}`,
];
console.log(lines.join('\n'));

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping simulators (${sims.maskinporten.tokensIssued} Maskinporten tokens, ${sims.altinn.exchanges} Altinn exchanges, ${sims.keyVault.writes} vault writes)`);
  await sims.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
