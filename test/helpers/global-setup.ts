// Jest's globalSetup: makes the run's test key pool (test/helpers/key-pool.ts) once, before any test file, and
// names its file in TEST_KEY_POOL. Test files see the setting (Jest's workers and the in-band run alike); child
// processes that tests start with a clean environment do not, and make their own keys as before.
//
// How the keys are made matters on Node 20. `npm test` once hung for good at 0% CPU, and the cause is in Node 20's
// crypto code, not in ours. A key made by generateKeyPairSync shares a mutex with the finished key generation job,
// and that job is freed by the garbage collector; its destructor takes the mutex. Exporting such a key as a JWK
// (KeyObject.export({ format: 'jwk' }), or jose's exportJWK(KeyObject)) holds the same mutex while it allocates the
// JWK's strings; when one of those allocations starts a garbage collection that frees the job, the main thread waits
// for a mutex it holds itself, for ever. Reading asymmetricKeyDetails has the same window. Seen with gdb on a stuck
// process (Node 20.20.2, OpenSSL 3.0.19), all on the main thread:
//   uv_mutex_lock <- KeyGenJob<RsaKeyGenTraits>::~KeyGenJob <- GlobalHandles::InvokeFirstPassWeakCallbacks
//   <- Heap::CollectGarbage <- ... <- String::NewFromOneByte <- EncodeBignum <- SetEncodedValue
//   <- ExportJWKRsaKey <- KeyObjectHandle::ExportJWK
// A loop of generateKeyPairSync('rsa') plus export({ format: 'jwk' }) under node --max-semi-space-size=1 (frequent
// collections) hangs within seconds on Node 20.20.2, every time; not on Node 22.23.3, which no longer has that mutex
// (nodejs/node#54751, "src: eliminate ManagedEVPPkey"; the mutex came with nodejs/node#36825). The same loop never
// hung with WebCrypto (crypto.subtle.generateKey and exportKey, which jose's generateKeyPair and exportJWK use), with
// crypto.generateKeyPair (its job is freed when it completes, not by the collector), or with generateKeyPairSync
// writing DER or PEM that createPrivateKey reads back (a new key with its own mutex). We found no Node.js issue that
// describes this deadlock.
//
// So the pool is made with crypto.generateKeyPair and exported as JWKs; test/helpers/key-pool.ts makes its
// other keys as DER. The file holds private keys: it is owner-only in an owner-only directory, the teardown removes
// it, and the next run removes one whose run never got to its teardown.
import { generateKeyPair, type JsonWebKey } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

// Jest loads this file and global-teardown.ts without the test files' module mapping, so they import no module of
// ours: the pool's settings live here, and test/helpers/key-pool.ts takes them from here.
export const KEY_POOL_ENV = 'TEST_KEY_POOL';

/** How many RSA 2048 keys of each kind the pool holds. */
export const KEY_POOL_SIZES = {
  /** Maskinporten clients: rsaKey() (test/helpers/keys.ts) and the simulator tests' makeTestClient(). */
  client: 6,
  maskinporten: 3,
  altinn: 3,
  entra: 4,
  /** Keys the Key Vault simulator creates. */
  vault: 4,
  /** Test certificate authorities (test/helpers/certificates.ts). */
  ca: 4,
  /** Keys of business certificates. */
  certificate: 3,
} as const;

export type KeyKind = keyof typeof KEY_POOL_SIZES;

export interface KeyPoolFile {
  readonly keys: Readonly<Record<KeyKind, readonly JsonWebKey[]>>;
}

/** Set here, called by global-teardown.ts (Jest runs both in its main process, where they share globals). */
export interface PoolGlobals {
  removeTestKeyPool?: () => void;
}

const generate = promisify(generateKeyPair);
const POOL_DIR = /^broker-test-keys-(\d+)-/;

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pools left by runs that never got to their teardown (ended by the test watchdog, say): their directory names the
 *  Jest process that made them, and it is gone. */
function removeAbandonedPools(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = POOL_DIR.exec(name)?.[1];
    if (pid === undefined || running(Number(pid))) continue;
    try {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    } catch {
      // Another user's, say: not ours to remove, and no reason to stop this run.
    }
  }
}

async function rsaJwk(): Promise<JsonWebKey> {
  const { privateKey } = await generate('rsa', { modulusLength: 2048 });
  return privateKey.export({ format: 'jwk' });
}

export default async function globalSetup(): Promise<void> {
  // A Jest that a test starts (test/helpers/watchdog.test.ts) uses the pool of the run that started it.
  const outer = process.env[KEY_POOL_ENV];
  if (outer && existsSync(outer)) return;
  const keys = {} as Record<KeyKind, JsonWebKey[]>;
  const kinds = Object.entries(KEY_POOL_SIZES) as Array<[KeyKind, number]>;
  await Promise.all(kinds.map(async ([kind, n]) => void (keys[kind] = await Promise.all(Array.from({ length: n }, rsaJwk)))));
  const pool: KeyPoolFile = { keys };
  removeAbandonedPools();
  const file = join(mkdtempSync(join(tmpdir(), `broker-test-keys-${process.pid}-`)), 'keys.json');
  writeFileSync(file, JSON.stringify(pool), { mode: 0o600 });
  process.env[KEY_POOL_ENV] = file;
  (globalThis as PoolGlobals).removeTestKeyPool = () => {
    rmSync(dirname(file), { recursive: true, force: true });
    delete process.env[KEY_POOL_ENV];
  };
}
