// Test certificates: a test CA and business-style leaf certificates it issues (organisation number in the subject
// as serialNumber and organizationIdentifier "NTRNO-<orgno>", as Norwegian enterprise certificates carry it).
// Keys come from node:crypto; node-forge (pure JS) only assembles and signs the X.509 structure.
import { generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { testRsaKey } from './key-pool.js';

export interface TestCa {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** DER */
  readonly cer: Buffer;
  readonly subject: forge.pki.CertificateField[];
}

export interface LeafOptions {
  readonly publicKey: KeyObject;
  readonly orgNumber: string;
  readonly commonName?: string;
  /** Default: an hour ago. */
  readonly notBefore?: Date;
  /** Default: a year from now. */
  readonly notAfter?: Date;
}

let serial = 1;

function sign(cert: forge.pki.Certificate, signer: KeyObject): Buffer {
  cert.sign(forge.pki.privateKeyFromPem(signer.export({ type: 'pkcs8', format: 'pem' }) as string), forge.md.sha256.create());
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
}

function base(publicKey: KeyObject, notBefore: Date, notAfter: Date): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  const rsa = publicKey.asymmetricKeyType === 'rsa' ? publicKey : generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
  cert.publicKey = forge.pki.publicKeyFromPem(rsa.export({ type: 'spki', format: 'pem' }) as string);
  cert.serialNumber = (serial++).toString(16).padStart(2, '0');
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  return cert;
}

/** A self-signed root CA, or an intermediate CA issued by `issuer`. */
export function makeTestCa(name = 'Test Business CA', issuer?: TestCa): TestCa {
  const { privateKey, publicKey } = testRsaKey('ca');
  const subject = [{ name: 'commonName', value: name }, { name: 'countryName', value: 'NO' }];
  const cert = base(publicKey, new Date(Date.now() - 86_400_000), new Date(Date.now() + 5 * 365 * 86_400_000));
  cert.setSubject(subject);
  cert.setIssuer(issuer?.subject ?? subject);
  cert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }]);
  return { privateKey, publicKey, cer: sign(cert, issuer?.privateKey ?? privateKey), subject };
}

/** A leaf issued by `ca` for the organisation `orgNumber`. */
export function makeCertificate(ca: TestCa, o: LeafOptions): Buffer {
  const cert = base(o.publicKey, o.notBefore ?? new Date(Date.now() - 3_600_000), o.notAfter ?? new Date(Date.now() + 365 * 86_400_000));
  cert.setSubject([
    { name: 'commonName', value: o.commonName ?? 'TEST ORG AS' },
    { type: '2.5.4.5', value: o.orgNumber }, // serialNumber
    { type: '2.5.4.97', value: `NTRNO-${o.orgNumber}` }, // organizationIdentifier
    { name: 'organizationName', value: o.commonName ?? 'TEST ORG AS' },
    { name: 'countryName', value: 'NO' },
  ]);
  cert.setIssuer(ca.subject);
  cert.setExtensions([{ name: 'basicConstraints', cA: false }, { name: 'keyUsage', digitalSignature: true, critical: true }]);
  if (o.publicKey.asymmetricKeyType === 'rsa') return sign(cert, ca.privateKey);
  // node-forge handles RSA keys only: build with a stand-in RSA key, then put the real public key info in and sign
  // the to-be-signed part again with node:crypto.
  const asn1 = forge.asn1.fromDer(sign(cert, ca.privateKey).toString('binary'));
  const parts = asn1.value as forge.asn1.Asn1[];
  const tbs = parts[0]!.value as forge.asn1.Asn1[];
  tbs[6] = forge.asn1.fromDer((o.publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('binary'));
  const tbsDer = Buffer.from(forge.asn1.toDer(parts[0]!).getBytes(), 'binary');
  const signature = nodeSign('sha256', tbsDer, ca.privateKey);
  parts[2] = forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.BITSTRING, false, `\0${signature.toString('binary')}`);
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}
