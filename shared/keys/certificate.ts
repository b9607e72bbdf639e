// Key source 3: a business certificate in Key Vault (MASKINPORTEN_CERTIFICATE). The grant header carries x5c
// (the leaf from the certificate's public part `cer`, then MASKINPORTEN_CERTIFICATE_CHAIN) and no kid; signing goes
// through the certificate's key in the vault, so the certificate's secret (its private key) is never read and
// non-exportable certificates work. The certificate is read at first use and after recheck() (once per timer run).
import { X509Certificate } from 'node:crypto';
import type { CertificateClient, KeyVaultCertificateWithPolicy } from '@azure/keyvault-certificates';
import type { KeyVaultKey } from '@azure/keyvault-keys';
import { KeyError } from '../errors.js';
import type { GrantSigner } from './signer.js';
import type { Logger } from '../logging.js';
import { keyVaultCall } from '../telemetry/instruments.js';
import { createCertificateClient, createCryptographyClient, createKeyClient, vaultError, type VaultTarget } from '../vault/clients.js';
import { MIN_VAULT_KEY_BITS, publicKeyOf, vaultSigner, type KeyInUse } from './vault-key.js';

const READ_ROLE = 'Key Vault Reader';
const CRYPTO_USER = 'Key Vault Crypto User';

export interface CertificateOptions extends VaultTarget {
  readonly certificateName: string;
  /** Intermediates (base64 DER), issuer of the leaf first. */
  readonly chain: readonly string[];
  readonly setting: string;
  readonly profile: string;
  readonly now: () => number;
  readonly timeoutMs: number;
}

interface Loaded {
  readonly version: string;
  readonly cert: X509Certificate;
  readonly signer: GrantSigner;
  readonly inUse: KeyInUse;
}

export class CertificateSource {
  #client?: Promise<CertificateClient>;
  #stale = true;
  #current?: Loaded;

  constructor(private readonly o: CertificateOptions) {}

  recheck(): void {
    this.#stale = true;
  }

  inUse(): KeyInUse | undefined {
    return this.#current?.inUse;
  }

  async signer(log: Logger): Promise<GrantSigner> {
    const what = `Key Vault certificate "${this.o.certificateName}" (${this.o.setting})`;
    if (this.#stale || !this.#current) {
      try {
        this.#current = await this.#load(what, log);
        this.#stale = false;
      } catch (err) {
        // A failed look for a renewed certificate does not stop signing with the one in use (while it is valid).
        if (!this.#current) throw err;
        log.warn(`[${this.o.profile}] Could not read ${what} again (${(err as Error).message}); still signing with version ${this.#current.version}.`);
      }
    }
    checkValidity(this.#current.cert, this.o.now(), what);
    return this.#current.signer;
  }

  async #load(what: string, log: Logger): Promise<Loaded> {
    const o = this.o;
    this.#client ??= createCertificateClient(o);
    const client = await this.#client;
    let bundle: KeyVaultCertificateWithPolicy;
    try {
      bundle = await keyVaultCall(o.vaultUrl, 'GET', 'getCertificate', () => client.getCertificate(o.certificateName, { abortSignal: AbortSignal.timeout(o.timeoutMs) }));
    } catch (err) {
      throw vaultError(err, 'read', what, READ_ROLE, 'CERTIFICATE_NOT_FOUND');
    }
    const version = bundle.properties.version ?? '';
    if (this.#current?.version === version) return this.#current;
    if (bundle.properties.enabled === false) {
      throw new KeyError('KEY_NOT_USABLE', `${what} version ${version} is disabled: enable it or import the current certificate.`);
    }
    let cert: X509Certificate;
    try {
      if (!bundle.cer || bundle.cer.length === 0) throw new Error('no cer');
      cert = new X509Certificate(Buffer.from(bundle.cer));
    } catch {
      throw new KeyError('CERTIFICATE_UNREADABLE', `${what} has no readable X.509 certificate (cer): import the certificate again (PFX or PEM with its private key).`);
    }
    checkValidity(cert, o.now(), what);
    if (cert.publicKey.asymmetricKeyType !== 'rsa') {
      throw new KeyError('KEY_NOT_RSA', `${what} has a ${cert.publicKey.asymmetricKeyType ?? 'non-RSA'} key; Maskinporten needs RSA (RS256): use an RSA business certificate.`);
    }
    const bits = cert.publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_VAULT_KEY_BITS) throw new KeyError('KEY_TOO_SMALL', `${what} has an RSA ${bits} key: use a certificate with an RSA ${MIN_VAULT_KEY_BITS}+ key.`);

    const keys = await createKeyClient(o);
    let key: KeyVaultKey;
    try {
      key = await keyVaultCall(o.vaultUrl, 'GET', 'getKey', () => keys.getKey(o.certificateName, { version, abortSignal: AbortSignal.timeout(o.timeoutMs) }));
    } catch (err) {
      throw vaultError(err, 'read the key of', what, CRYPTO_USER, 'KEY_NOT_FOUND');
    }
    const { publicKey } = publicKeyOf(key, `The key of ${what}`);
    const certJwk = cert.publicKey.export({ format: 'jwk' });
    const keyJwk = publicKey.export({ format: 'jwk' });
    if (certJwk.n !== keyJwk.n || certJwk.e !== keyJwk.e) {
      throw new KeyError('KEY_NOT_USABLE', `The key of ${what} version ${version} does not belong to its certificate: import the certificate together with its own private key.`);
    }
    const x5c = [cert.raw.toString('base64'), ...o.chain];
    const signer = vaultSigner(await createCryptographyClient(o, key), cert.publicKey, { x5c }, what, o.timeoutMs);
    const inUse: KeyInUse = {
      source: 'certificate',
      name: o.certificateName,
      version,
      subject: cert.subject.split('\n').join(', '),
      ...(bundle.properties.createdOn && { createdAt: bundle.properties.createdOn.toISOString() }),
      notBefore: new Date(cert.validFrom).toISOString(),
      expiresAt: new Date(cert.validTo).toISOString(),
    };
    log.info(`[${o.profile}] Signing with ${what} version ${version} (${inUse.subject}, valid until ${inUse.expiresAt}); the key stays in Key Vault.`);
    return { version, cert, signer, inUse };
  }
}

function checkValidity(cert: X509Certificate, nowMs: number, what: string): void {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (nowMs < from) {
    throw new KeyError('CERTIFICATE_NOT_YET_VALID', `${what} is not valid before ${new Date(from).toISOString()}: wait, or import a certificate that is valid now.`);
  }
  if (nowMs > to) {
    throw new KeyError('CERTIFICATE_EXPIRED', `${what} expired at ${new Date(to).toISOString()}: order a new business certificate and import it as a new version.`);
  }
}
