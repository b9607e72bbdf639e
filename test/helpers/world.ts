// A complete local world for tests and the demo: the three simulators on 127.0.0.1 sharing one adjustable clock,
// a registered Maskinporten client with an RSA key of its own, that key stored base64-encoded in the simulated vault,
// and the settings that point the broker at all of it.
import { startAllSims, type AllSims } from '../sim/index.js';
import { b64, json, rsaKey, type KeyShapes } from './keys.js';

export interface Clock {
  now(): number;
  /** Moves the shared clock forward (simulators and broker alike). */
  advance(ms: number): void;
}

export interface World {
  readonly sims: AllSims;
  readonly clock: Clock;
  readonly clientId: string;
  readonly key: KeyShapes;
  readonly keySecret: string;
  /** Settings for the broker: the contract names, pointed at the simulators. */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

export interface WorldOptions {
  readonly scopes?: readonly string[];
  readonly altinnLifetimeSeconds?: number;
  readonly maskinportenLifetimeSeconds?: number;
  readonly clientId?: string;
  readonly orgNo?: string;
  readonly systemUsers?: string[];
  /** What to store in the key secret (default: base64 of the private JWK). */
  readonly keyValue?: (k: KeyShapes) => string;
}

export function makeClock(): Clock {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => void (offset += ms) };
}

export async function startWorld(o: WorldOptions = {}): Promise<World> {
  const clock = makeClock();
  const key = rsaKey(`broker-TEST.${Math.random().toString(36).slice(2, 8)}`);
  const clientId = o.clientId ?? crypto.randomUUID();
  const scopes = o.scopes ?? ['altinn:serviceowner'];
  const sims = await startAllSims({
    now: clock.now,
    maskinporten: {
      ...(o.maskinportenLifetimeSeconds !== undefined && { tokenLifetimeSeconds: o.maskinportenLifetimeSeconds }),
      clients: [
        {
          clientId,
          scopes: [...scopes, 'extra:scope'],
          keys: [key.publicJwk],
          ...(o.orgNo !== undefined && { orgNo: o.orgNo }),
          ...(o.systemUsers && { systemUsers: o.systemUsers }),
        },
      ],
    },
    altinn: { ...(o.altinnLifetimeSeconds !== undefined && { tokenLifetimeSeconds: o.altinnLifetimeSeconds }) },
  });
  const keySecret = 'maskinporten-key';
  sims.keyVault.setSecret(keySecret, (o.keyValue ?? ((k) => b64(json(k.jwk))))(key));
  const env = {
    KEY_VAULT_URL: sims.keyVault.url,
    MASKINPORTEN_CLIENT_ID: clientId,
    MASKINPORTEN_SCOPES: scopes.join(' '),
    MASKINPORTEN_KEY_SECRET: keySecret,
    MASKINPORTEN_KID: key.kid,
    MASKINPORTEN_ISSUER: sims.maskinporten.issuer,
    ALTINN_URL: sims.altinn.url,
    TOKEN_SECRET: 'altinn-token',
  };
  return { sims, clock, clientId, key, keySecret, env, close: () => sims.close() };
}
