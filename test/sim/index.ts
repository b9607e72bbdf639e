// Entry point of the simulators: re-exports the starters and their types, and starts all four (Maskinporten,
// Altinn, Key Vault, Entra ID) wired together (Altinn trusts the Maskinporten simulator) behind one close().
import { startAltinnSim, type AltinnSim, type AltinnSimOptions } from './altinn-sim.js';
import { startEntraSim, type EntraSim, type EntraSimOptions } from './entra-sim.js';
import { startKeyVaultSim, type KeyVaultSim, type KeyVaultSimOptions } from './keyvault-sim.js';
import { startMaskinportenSim, type MaskinportenSim, type MaskinportenSimOptions } from './maskinporten-sim.js';

export { startAltinnSim, type AltinnSim, type AltinnSimOptions } from './altinn-sim.js';
export {
  startKeyVaultSim, KvError, MAX_VALUE_BYTES, type KeyVaultSim, type KeyVaultSimOptions, type SeedOptions,
  type SecretAttributes, type SecretVersionView,
} from './keyvault-sim.js';
export {
  startMaskinportenSim, ERROR_URI_BASE, type MaskinportenSim, type MaskinportenSimOptions, type SimClient,
  type TokenRequestLog,
} from './maskinporten-sim.js';
export { startEntraSim, type EntraSim, type EntraSimOptions, type IssueOptions } from './entra-sim.js';
export { FaultQueue, throttle, MAX_FAULT_DELAY_MS, MAX_QUEUED_FAULTS, type Fault } from './faults.js';

export interface AllSimsOptions {
  maskinporten?: MaskinportenSimOptions;
  altinn?: Omit<AltinnSimOptions, 'maskinporten'>;
  keyVault?: KeyVaultSimOptions;
  entra?: EntraSimOptions;
  /** Clock for all three unless a simulator's own options set one. */
  now?: () => number;
}

export interface AllSims {
  maskinporten: MaskinportenSim;
  altinn: AltinnSim;
  keyVault: KeyVaultSim;
  /** Entra ID for caller authorization (the broker uses it only when given its settings()). */
  entra: EntraSim;
  close(): Promise<void>;
}

export async function startAllSims(opts: AllSimsOptions = {}): Promise<AllSims> {
  const clock = opts.now === undefined ? {} : { now: opts.now };
  const started: Array<{ close(): Promise<void> }> = [];
  const closeAll = async () => {
    await Promise.all(started.map((s) => s.close()));
  };
  try {
    const maskinporten = await startMaskinportenSim({ ...clock, ...opts.maskinporten });
    started.push(maskinporten);
    const altinn = await startAltinnSim({ ...clock, ...opts.altinn, maskinporten });
    started.push(altinn);
    const keyVault = await startKeyVaultSim({ ...clock, ...opts.keyVault });
    started.push(keyVault);
    const entra = await startEntraSim({ ...clock, ...opts.entra });
    started.push(entra);
    return { maskinporten, altinn, keyVault, entra, close: closeAll };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
