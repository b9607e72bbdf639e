// The consumer side of the broker, for Node and TypeScript services (`<package>/client`): a token source over the
// broker's HTTP API and one over its token vault, with one interface. Imports nothing from the broker itself and no
// `@azure/functions`; `@azure/identity` and `@azure/keyvault-secrets` load only when first needed.
export { createBrokerClient, parseRetryAfter, type BrokerClient, type BrokerClientOptions } from './broker-client.js';
export { createVaultTokenSource, type VaultTokenSourceOptions } from './vault-source.js';
export { BrokerClientError, type BrokerClientErrorFacts, type ClientErrorCode } from './errors.js';
export type { AccessToken } from './token-cache.js';
export type { FetchFunction } from './authorized-fetch.js';
