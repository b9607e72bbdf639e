// Alerts that fire before consumers break (infra/README.md, "Alerts and runbook"): an action group (e-mail, optional
// webhook) and five log search alert rules over the broker's metrics in Application Insights (customMetrics, the
// names and attributes the broker's telemetry emits). App Insights accepts Entra ID only (local auth is off), so the
// rules run their queries as their own user-assigned identity, which may only read: Log Analytics Reader on the
// workspace (where a workspace-based component keeps its data) and Monitoring Reader on the component.

@description('Resource token of the environment: part of every name here.')
param resourceToken string

@description('Azure region of the identity and the alert rules (the action group is global).')
param location string

@description('Tags applied to every resource here.')
param tags object = {}

@description('Resource id of the user-assigned identity the rules query as (not the broker\'s identity, which never reads telemetry).')
param identityId string

@description('Principal (object) id of that identity: it gets the two reader roles.')
param identityPrincipalId string

@description('Application Insights component the rules query (their scope).')
param applicationInsightsName string

@description('Log Analytics workspace behind that component (the rules\' identity reads it).')
param logAnalyticsName string

@description('E-mail addresses the action group notifies; none: no e-mail receiver.')
param emailAddresses array = []

@description('Webhook the action group calls (common alert schema); empty: none. Secure: such URLs often carry a token.')
@secure()
param webhookUrl string = ''

@description('Maskinporten or Altinn calls that failed within 15 minutes above which the upstream rule fires.')
@minValue(1)
param upstreamErrorThreshold int = 5

@description('Days before the signing key or certificate in use expires at which the key rule fires.')
@minValue(1)
param keyExpiryWarningDays int = 30

@description('Age in days of the signing key or certificate in use above which the key rule fires.')
@minValue(1)
param keyMaxAgeDays int = 365

@description('How long without a timer-run refresh metric before the silence rule fires (ISO 8601); at least two timer periods.')
@allowed([
  'PT15M'
  'PT30M'
  'PT45M'
  'PT1H'
  'PT2H'
  'PT3H'
  'PT6H'
])
param timerSilenceWindow string = 'PT30M'

// Log Analytics Reader: query the workspace that holds the component's data (read only).
var logAnalyticsReaderRoleId = '73c42c96-874c-492b-b04d-ab87d138a893'
// Monitoring Reader: read the Application Insights component the rules are scoped to (read only).
var monitoringReaderRoleId = '43d0d8ad-25c7-4714-9337-8ba259a9fe05'

var webhookGiven = !empty(webhookUrl)
var notify = !empty(emailAddresses) || webhookGiven
var emailReceivers = [for (address, i) in emailAddresses: {
  name: 'email-${i}'
  emailAddress: address
  useCommonAlertSchema: true
}]
var webhookReceivers = webhookGiven ? [
  {
    name: 'webhook'
    serviceUri: webhookUrl
    useCommonAlertSchema: true
  }
] : []

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsName
}

resource workspaceReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(logAnalytics.id, identityPrincipalId, logAnalyticsReaderRoleId)
  scope: logAnalytics
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', logAnalyticsReaderRoleId)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource componentReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, identityPrincipalId, monitoringReaderRoleId)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringReaderRoleId)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (notify) {
  name: 'ag-broker-${resourceToken}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'tokenbroker'
    enabled: true
    emailReceivers: emailReceivers
    webhookReceivers: webhookReceivers
  }
}

var actionGroupIds = notify ? [
  actionGroup.id
] : []

// ---------------------------------------------------------------- the queries (Application Insights schema)

// Refresh failing for a profile on two timer runs in a row: timer-run failures since the profile's last timer run
// that did not fail (fresh, adopted or refreshed), within the last hour.
var refreshFailingQuery = '''
let runs = customMetrics
| where name == 'broker.refresh'
| extend profile = tostring(customDimensions['broker.profile']), outcome = tostring(customDimensions['broker.refresh.outcome']), trigger = tostring(customDimensions['broker.trigger']), errorType = tostring(customDimensions['error.type'])
| where trigger == 'timer';
runs
| join kind=inner (runs | summarize lastGood = maxif(timestamp, outcome != 'failed') by profile) on profile
| where outcome == 'failed' and (isnull(lastGood) or timestamp > lastGood)
| summarize failedRuns = toint(sum(value)), errorTypes = strcat_array(make_set(errorType, 5), ',') by profile
'''

// A profile's best token (the longest-lived one any instance reports) expires within 5 minutes, and no successful
// refresh (refreshed or adopted) was recorded after that reading. The expiry is the reading's time plus the seconds
// it reported, so the rule keeps counting down when readings stop (no instance running).
var tokenExpiringQuery = '''
let readings = customMetrics
| where name == 'broker.token.time_to_expiry'
| extend profile = tostring(customDimensions['broker.profile'])
| summarize arg_max(timestamp, value) by profile, cloud_RoleInstance
| summarize expiresAt = max(timestamp + value * 1s), lastReading = max(timestamp) by profile;
let refreshed = customMetrics
| where name == 'broker.refresh'
| extend profile = tostring(customDimensions['broker.profile']), outcome = tostring(customDimensions['broker.refresh.outcome'])
| where outcome in ('refreshed', 'adopted')
| summarize lastRefresh = max(timestamp) by profile;
readings
| join kind=leftouter refreshed on profile
| where expiresAt < now() + 5m and (isnull(lastRefresh) or lastRefresh <= lastReading)
| project profile, expiresAt, secondsLeft = toint((expiresAt - now()) / 1s)
'''

// The key or certificate in use: the latest reading per profile of days to expiry and age.
var keyAgingQueryTemplate = '''
customMetrics
| where name in ('broker.key.expires_in', 'broker.key.age')
| extend profile = tostring(customDimensions['broker.profile']), source = tostring(customDimensions['broker.key.source'])
| summarize arg_max(timestamp, value, source) by profile, name
| summarize expiresInDays = take_anyif(value, name == 'broker.key.expires_in'), ageDays = take_anyif(value, name == 'broker.key.age'), source = take_any(source) by profile
| where expiresInDays < {KEY_EXPIRY_DAYS} or ageDays > {KEY_MAX_AGE_DAYS}
| project profile, source, expiresInDays = round(expiresInDays, 1), ageDays = round(ageDays, 1)
'''
var keyAgingQuery = replace(replace(keyAgingQueryTemplate, '{KEY_EXPIRY_DAYS}', string(keyExpiryWarningDays)), '{KEY_MAX_AGE_DAYS}', string(keyMaxAgeDays))

// Failed calls to Maskinporten or Altinn (each attempt, retries included): error.type set or an HTTP error status.
var upstreamErrorsQuery = '''
customMetrics
| where name == 'http.client.request.duration'
| extend upstream = tostring(customDimensions['broker.upstream']), status = toint(customDimensions['http.response.status_code']), errorType = tostring(customDimensions['error.type'])
| where upstream in ('maskinporten', 'altinn')
| where isnotempty(errorType) or status >= 400
| summarize failures = toint(sum(iff(isnull(valueCount), 1, valueCount))), errorTypes = strcat_array(make_set(errorType, 5), ',') by upstream
'''

// The timer has reported no refresh at all: the app is down or stopped, the timer does not run, or telemetry does
// not arrive (the identity's Monitoring Metrics Publisher role, APPLICATIONINSIGHTS_AUTHENTICATION_STRING). The
// other rules are silent then, so this one watches them.
var timerSilentQuery = '''
customMetrics
| where name == 'broker.refresh'
| where tostring(customDimensions['broker.trigger']) == 'timer'
| summarize runs = count()
'''

// ---------------------------------------------------------------- the rules

// Each rule fires separately per value of its dimension (one alert per profile, or per upstream service).
var byProfile = [
  {
    name: 'profile'
    operator: 'Include'
    values: [
      '*'
    ]
  }
]
var byUpstream = [
  {
    name: 'upstream'
    operator: 'Include'
    values: [
      '*'
    ]
  }
]
// One evaluation period: the queries look back over the whole window themselves.
var onePeriod = {
  numberOfEvaluationPeriods: 1
  minFailingPeriodsToAlert: 1
}

var rules = [
  {
    name: 'refresh-failing'
    displayName: 'Token broker: refresh failed on two timer runs in a row'
    description: 'A profile\'s timer refresh failed twice in a row. The last good token is still served until it expires. See infra/README.md, Runbook, "refresh-failing".'
    severity: 1
    evaluationFrequency: 'PT5M'
    windowSize: 'PT1H'
    criterion: {
      query: refreshFailingQuery
      timeAggregation: 'Maximum'
      metricMeasureColumn: 'failedRuns'
      operator: 'GreaterThanOrEqual'
      threshold: 2
      dimensions: byProfile
      failingPeriods: onePeriod
    }
  }
  {
    name: 'token-expiring'
    displayName: 'Token broker: a profile\'s token expires within 5 minutes'
    description: 'The longest-lived token of a profile expires within 5 minutes and no refresh succeeded: consumers are about to get 503. See infra/README.md, Runbook, "token-expiring".'
    severity: 0
    evaluationFrequency: 'PT5M'
    windowSize: 'PT6H'
    criterion: {
      query: tokenExpiringQuery
      timeAggregation: 'Count'
      operator: 'GreaterThan'
      threshold: 0
      dimensions: byProfile
      failingPeriods: onePeriod
    }
  }
  {
    name: 'key-aging'
    displayName: 'Token broker: signing key or certificate near expiry or too old'
    description: 'The key or certificate a profile signs with expires within ${keyExpiryWarningDays} days or is older than ${keyMaxAgeDays} days. See infra/README.md, Runbook, "key-aging".'
    severity: 2
    evaluationFrequency: 'PT1H'
    windowSize: 'P1D'
    criterion: {
      query: keyAgingQuery
      timeAggregation: 'Count'
      operator: 'GreaterThan'
      threshold: 0
      dimensions: byProfile
      failingPeriods: onePeriod
    }
  }
  {
    name: 'upstream-errors'
    displayName: 'Token broker: Maskinporten or Altinn errors'
    description: 'More than ${upstreamErrorThreshold} failed calls to Maskinporten or Altinn within 15 minutes. See infra/README.md, Runbook, "upstream-errors".'
    severity: 2
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criterion: {
      query: upstreamErrorsQuery
      timeAggregation: 'Total'
      metricMeasureColumn: 'failures'
      operator: 'GreaterThan'
      threshold: upstreamErrorThreshold
      dimensions: byUpstream
      failingPeriods: onePeriod
    }
  }
  {
    name: 'timer-silent'
    displayName: 'Token broker: no refresh reported by the timer'
    description: 'No timer refresh reached Application Insights within ${timerSilenceWindow}: the app, the timer or its telemetry is down, and the other rules cannot fire. See infra/README.md, Runbook, "timer-silent".'
    severity: 1
    evaluationFrequency: 'PT5M'
    windowSize: timerSilenceWindow
    criterion: {
      query: timerSilentQuery
      timeAggregation: 'Maximum'
      metricMeasureColumn: 'runs'
      operator: 'LessThan'
      threshold: 1
      dimensions: []
      failingPeriods: onePeriod
    }
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for rule in rules: {
  name: 'alert-broker-${rule.name}-${resourceToken}'
  location: location
  tags: tags
  kind: 'LogAlert'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    displayName: rule.displayName
    description: rule.description
    severity: rule.severity
    enabled: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: rule.evaluationFrequency
    windowSize: rule.windowSize
    criteria: {
      allOf: [
        rule.criterion
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: actionGroupIds
      customProperties: {
        runbook: 'infra/README.md#runbook'
        rule: rule.name
      }
    }
  }
  dependsOn: [
    workspaceReader
    componentReader
  ]
}]

output alertRuleNames array = [for (rule, i) in rules: alertRules[i].name]
output actionGroupName string = notify ? actionGroup.name : ''
