// `npm run sims`: starts the simulators alone (Maskinporten, Altinn, Key Vault and Entra ID), registers a client with
// a fresh RSA key (private key seeded into the vault simulator), prints the settings as `export NAME='value'` lines
// and writes the same lines to an env file (default .sims.env in the project directory, git-ignored; `--settings
// <file>` to choose). `npm run token` and `npm run host` read that file only when asked: `-- --settings .sims.env`.
// The file is removed when the simulators stop (SIGINT, SIGTERM, SIGHUP or npm going away), since its URLs die
// with them. Caller authorization settings and a caller token are printed too, but not written to the file.
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair } from 'jose';
import { stopOnExitRequest } from '../../shared/local/lifecycle.js';
import { envLine } from '../../shared/local/settings.js';
import { startAllSims } from './index.js';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));
const SCOPES = ['altinn:serviceowner', 'altinn:serviceowner/instances.read', 'altinn:authentication/systemuser.request.write'];
const KEY_SECRET = 'maskinporten-key';

const { values } = parseArgs({ args: process.argv.slice(2), options: { settings: { type: 'string' } } });
const envFile = resolve(PROJECT, values['settings'] ?? '.sims.env');

const sims = await startAllSims();
let written = false;
stopOnExitRequest(
  async () => {
    if (written) rmSync(envFile, { force: true });
    await sims.close();
  },
  {
    onStop: (reason) =>
      console.log(
        `\n${reason}: stopping simulators (${sims.maskinporten.tokensIssued} Maskinporten tokens, ${sims.altinn.exchanges} Altinn exchanges, ` +
          `${sims.keyVault.writes} vault writes)${written ? `; removing ${envFile}` : ''}.`,
      ),
  },
);

const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
const kid = `broker-TEST.${randomUUID().slice(0, 8)}`;
const clientId = randomUUID();
const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
sims.maskinporten.addClient({ clientId, orgNo: '991825827', scopes: SCOPES, keys: [publicJwk], systemUsers: ['310454578'] });
// The key is stored the way users store it (docs/protocol.md, key formats): base64 of the private JWK JSON.
const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
const version = sims.keyVault.setSecret(KEY_SECRET, Buffer.from(JSON.stringify(privateJwk)).toString('base64'));

const settings: Record<string, string> = {
  KEY_VAULT_URL: sims.keyVault.url,
  MASKINPORTEN_ISSUER: sims.maskinporten.issuer,
  MASKINPORTEN_TOKEN_URL: sims.maskinporten.tokenEndpoint,
  ALTINN_URL: sims.altinn.url,
  MASKINPORTEN_CLIENT_ID: clientId,
  MASKINPORTEN_SCOPES: SCOPES[0]!,
  MASKINPORTEN_KEY_SECRET: KEY_SECRET,
  MASKINPORTEN_KID: kid,
};
const exports = Object.entries(settings).map(([name, value]) => envLine(name, value));
writeFileSync(envFile, `# Written by "npm run sims" for the simulators it runs; removed when they stop.\n${exports.join('\n')}\n`, { mode: 0o600 });
written = true;
const shown = relative(process.cwd(), envFile) || envFile;

console.log(
  [
    'Simulators running on 127.0.0.1 (Ctrl+C to stop):',
    `  Maskinporten  ${sims.maskinporten.issuer}  (token ${sims.maskinporten.tokenEndpoint}, jwks ${sims.maskinporten.jwksUri})`,
    `  Altinn        ${sims.altinn.url}`,
    `  Key Vault     ${sims.keyVault.url}  (secret ${KEY_SECRET}, version ${version})`,
    `  Entra ID      ${sims.entra.url}  (tenant ${sims.entra.tenantId}, keys ${sims.entra.jwksUri})`,
    `Client ${clientId} (org 991825827, system user for 310454578), kid ${kid}, scopes: ${SCOPES.join(' ')}`,
    '',
    `Settings (also written to ${shown}):`,
    ...exports,
    '',
    'In another terminal, in this directory:',
    `  npm run token -- --settings ${shown}     mint one token against the simulators`,
    `  npm run host -- --settings ${shown}      run the app against them`,
    'or paste the export lines above into that shell first and leave out --settings.',
    '',
    'Caller authorization (optional; add these to turn it on):',
    ...Object.entries(sims.entra.settings()).map(([name, value]) => envLine(name, value)),
    'A caller token with Tokens.Read.All and Health.Read (valid 1 hour):',
    `  ${await sims.entra.issueToken({ roles: ['Tokens.Read.All', 'Health.Read'] })}`,
  ].join('\n'),
);
