// Data-plane access to the TOKEN vault (where the broker writes each profile's token secret; new or existing, in
// this or another resource group): deploy this module scoped to the vault's resource group. The broker may write
// secrets here (Key Vault Secrets Officer). Consumers that read a token straight from the vault get Key Vault
// Secrets User on that one token secret, never on the vault: a vault-wide reader would see every profile's token
// and bypass the per-profile app roles. A role assignment needs its scope to exist, so each token secret that has
// readers and does not exist yet is created here with a placeholder value the broker ignores.

@description('Name of the token vault (it must exist and use RBAC authorisation).')
param vaultName string

@description('Principal (object) id of the broker\'s user-assigned identity: gets Key Vault Secrets Officer (it writes the token secrets).')
param brokerPrincipalId string

@description('Per-secret read grants for consumers, as [{ secret, principalId, principalType }]; duplicates are removed here.')
param readerGrants array = []

@description('Token secrets that already exist in this vault (an earlier deployment created them): no placeholder is written to them, so a live token is never replaced.')
param existingSecretNames array = []

// Key Vault Secrets Officer: read, write and delete secrets (the broker stores each new token as a secret version).
var keyVaultSecretsOfficerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
// Key Vault Secrets User: read secret values (a consumer reads one token secret, scoped to that secret).
var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'

// The placeholder: the broker treats a secret with this tag (or content type) as "no token yet" and refreshes.
var placeholderValue = 'placeholder: the broker writes the token here on its first refresh'
var placeholderContentType = 'application/vnd.maskinporten-broker.placeholder'
var placeholderTags = {
  'broker-placeholder': 'true'
}

// union() with an empty list removes duplicate grants, so two role assignments never get the same name.
var grants = union(readerGrants, [])
var readableSecretNames = union(map(grants, grant => (grant.secret)), [])
var placeholderSecretNames = filter(readableSecretNames, name => !contains(existingSecretNames, name))

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource brokerSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, brokerPrincipalId, keyVaultSecretsOfficerRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficerRoleId)
    principalId: brokerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource placeholders 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [for name in placeholderSecretNames: {
  parent: vault
  name: name
  tags: placeholderTags
  properties: {
    value: placeholderValue
    contentType: placeholderContentType
  }
}]

// One reference per grant (same index as the grant), so each role assignment is scoped to its own token secret.
resource grantedSecrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = [for grant in grants: {
  parent: vault
  name: grant.secret
}]

resource readerSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (grant, i) in grants: {
  name: guid(vault.id, grant.secret, grant.principalId, keyVaultSecretsUserRoleId)
  scope: grantedSecrets[i]
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: grant.principalId
    principalType: grant.principalType
  }
  dependsOn: [
    placeholders
  ]
}]

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
@description('Every token secret that has readers; all of them exist after this deployment.')
output readableSecretNames array = readableSecretNames
