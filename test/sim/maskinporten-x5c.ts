// The Maskinporten simulator's check of a business-certificate grant (x5c in the header): an array of base64 DER
// certificates, leaf first; the leaf is within its validity period, chains to a CA the simulator trusts, and names
// the client's own organisation number in its subject (serialNumber, or organizationIdentifier "NTRNO-<orgno>").
// The leaf's public key then verifies the grant's signature.
import { X509Certificate, type KeyObject } from 'node:crypto';
import { GrantRejection, type SimClient } from './maskinporten-grant.js';

const MAX_CHAIN = 5;
const reject = (d: string) => new GrantRejection(400, 'invalid_grant', 'MP-123', `Invalid assertion: ${d}`);

/** The organisation number a Norwegian enterprise certificate's subject carries, if any. */
export function orgNumberOf(cert: X509Certificate): string | undefined {
  const lines = cert.subject.split('\n');
  for (const l of lines) {
    const m = /^(?:serialNumber|2\.5\.4\.5)=(\d{9})$/.exec(l) ?? /^(?:organizationIdentifier|2\.5\.4\.97)=NTRNO-(\d{9})$/.exec(l);
    if (m) return m[1];
  }
  return undefined;
}

/** Checks x5c and returns the leaf's public key (the key that must verify the grant). */
export function certificateKey(x5c: unknown, client: SimClient, trusted: readonly X509Certificate[], nowMs: number): KeyObject {
  if (!Array.isArray(x5c) || x5c.length === 0) throw reject('x5c must be a non-empty JSON array of base64 DER certificates');
  if (x5c.length > MAX_CHAIN) throw reject(`x5c holds at most ${MAX_CHAIN} certificates`);
  const certs = x5c.map((c) => {
    if (typeof c !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(c)) throw reject('x5c entries must be standard base64 (not base64url) DER');
    try {
      return new X509Certificate(Buffer.from(c, 'base64'));
    } catch {
      throw reject('x5c holds something that is not an X.509 certificate');
    }
  });
  const leaf = certs[0]!;
  for (const c of certs) {
    if (nowMs < Date.parse(c.validFrom)) throw reject('certificate is not yet valid');
    if (nowMs > Date.parse(c.validTo)) throw reject('certificate has expired');
  }
  if (!chainsToTrusted(leaf, certs.slice(1), trusted)) throw reject('certificate does not chain to a trusted certificate authority');
  const orgNo = orgNumberOf(leaf);
  const clientOrg = client.orgNo ?? '999888777';
  if (orgNo === undefined) throw reject('certificate subject carries no organisation number');
  if (orgNo !== clientOrg) {
    throw new GrantRejection(400, 'invalid_grant', 'MP-120', `Invalid assertion: certificate belongs to organisation ${orgNo}, not to the client's (${clientOrg})`);
  }
  return leaf.publicKey;
}

function chainsToTrusted(leaf: X509Certificate, intermediates: readonly X509Certificate[], trusted: readonly X509Certificate[]): boolean {
  let cert = leaf;
  for (let depth = 0; depth <= MAX_CHAIN; depth++) {
    if (trusted.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) return true;
    const next = intermediates.find((i) => i !== cert && cert.checkIssued(i) && cert.verify(i.publicKey) && i.ca);
    if (!next) return false;
    cert = next;
  }
  return false;
}
