// Grant signing cost: the broker's signGrant (decoded key, jose over WebCrypto) against a raw synchronous
// crypto.sign('sha256') with the same RSA 2048 key over a signing input of the same length, per-op medians.
// Two more variants split the difference: crypto.sign with a callback (thread pool) and subtle.sign alone.
import { sign, webcrypto } from 'node:crypto';
import { decodeKey } from '../../shared/keys/decode.js';
import { signGrant, type GrantRequest } from '../../shared/maskinporten/grant.js';
import { b64, json, rsaKey } from '../helpers/keys.js';
import { median } from './load.js';

export interface SigningResult {
  readonly iterations: number;
  /** Per-op medians in microseconds. */
  readonly signGrantUs: number;
  readonly rawSyncUs: number;
  readonly rawAsyncUs: number;
  readonly subtleUs: number;
}

export async function benchSigning(iterations: number): Promise<SigningResult> {
  const k = rsaKey('bench-TEST.1');
  const key = await decodeKey(b64(json(k.jwk)), { secretName: 'bench-key', setting: 'MASKINPORTEN_KEY_SECRET' });
  const request: GrantRequest = {
    clientId: '2f0e7c3a-0000-4000-8000-00000000be0c',
    audience: 'https://test.maskinporten.no/',
    scopes: ['altinn:serviceowner'],
  };
  const sample = await signGrant(request, key, Date.now());
  const input = Buffer.from(sample.slice(0, sample.lastIndexOf('.')));
  const subtleKey = await webcrypto.subtle.importKey('jwk', k.privateKey.export({ format: 'jwk' }), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);

  const variants: Record<keyof Omit<SigningResult, 'iterations'>, () => unknown> = {
    signGrantUs: () => signGrant(request, key, Date.now()),
    rawSyncUs: () => sign('sha256', input, k.privateKey),
    rawAsyncUs: () =>
      new Promise<Buffer>((resolve, reject) => sign('sha256', input, k.privateKey, (err, sig) => (err ? reject(err) : resolve(sig)))),
    subtleUs: () => webcrypto.subtle.sign('RSASSA-PKCS1-v1_5', subtleKey, input),
  };
  const names = Object.keys(variants) as Array<keyof typeof variants>;
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<keyof typeof variants, number[]>;
  const warmup = Math.min(200, Math.floor(iterations / 5));
  // Interleaved, rotating which goes first, so drift (clock boost, GC) hits every variant alike.
  for (let i = 0; i < warmup + iterations; i++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(i + j) % names.length]!;
      const t0 = process.hrtime.bigint();
      await variants[name]();
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      if (i >= warmup) samples[name].push(us);
    }
  }
  return {
    iterations,
    signGrantUs: median(samples.signGrantUs),
    rawSyncUs: median(samples.rawSyncUs),
    rawAsyncUs: median(samples.rawAsyncUs),
    subtleUs: median(samples.subtleUs),
  };
}
