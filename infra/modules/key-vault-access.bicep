// Data-plane access to the KEY vault (the vault that holds the Maskinporten private key; new or existing, in this
// or another resource group): deploy this module scoped to the vault's resource group. The broker never writes
// here, and gets exactly the roles its key source needs: Key Vault Secrets User to read the key secret ('secret'),
// or Key Vault Crypto User to sign with a key it cannot read ('vault-key'), plus Key Vault Reader for a certificate's
// public part ('certificate'; never a role that reads secret values, since a certificate's secret holds its private
// key). The operator who uploads the key may write. No consumer role is ever assigned on this vault: token readers
// get per-secret roles on the token vault (token-vault-access.bicep).

@description('Name of the key vault (it must exist and use RBAC authorisation).')
param vaultName string

@description('Where the private key lives: secret (a base64 key in a secret the broker reads), vault-key (a Key Vault key the broker signs with) or certificate (a Key Vault certificate the broker signs with).')
@allowed([
  'secret'
  'vault-key'
  'certificate'
])
param keySource string = 'secret'

@description('Principal (object) id of the broker\'s user-assigned identity: gets the roles of the key source (never a role that writes).')
param brokerPrincipalId string

@description('Optional principal (object) id, e.g. the person deploying, that gets Key Vault Secrets Officer to upload the Maskinporten key. Empty: none.')
param adminPrincipalId string = ''

@description('Principal type of the admin principal.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param adminPrincipalType string = 'User'

// Key Vault Secrets User: read secret values (the broker reads the private key; it never writes here).
var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'
// Key Vault Crypto User: read a key's public part and sign with it; no secret values, no key export.
var keyVaultCryptoUserRoleId = '12338af0-0e69-4776-bea7-57ae8d297424'
// Key Vault Reader: read metadata, certificates' public parts among it; no secret values.
var keyVaultReaderRoleId = '21090545-7ca7-4776-b22c-e363652d74d2'
// Key Vault Secrets Officer: read, write and delete secrets (the operator uploads and rotates the key).
var keyVaultSecretsOfficerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'

var readsKeySecret = keySource == 'secret'
var signsInVault = keySource == 'vault-key' || keySource == 'certificate'
var readsCertificate = keySource == 'certificate'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource brokerSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (readsKeySecret) {
  name: guid(vault.id, brokerPrincipalId, keyVaultSecretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: brokerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource brokerCryptoUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (signsInVault) {
  name: guid(vault.id, brokerPrincipalId, keyVaultCryptoUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultCryptoUserRoleId)
    principalId: brokerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource brokerReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (readsCertificate) {
  name: guid(vault.id, brokerPrincipalId, keyVaultReaderRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultReaderRoleId)
    principalId: brokerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource adminSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(adminPrincipalId)) {
  name: guid(vault.id, adminPrincipalId, keyVaultSecretsOfficerRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficerRoleId)
    principalId: adminPrincipalId
    principalType: adminPrincipalType
  }
}

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
