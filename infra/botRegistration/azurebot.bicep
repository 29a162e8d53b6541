// The Azure Bot: SingleTenant (multi-tenant bot creation is deprecated), the Teams channel, and the OAuth connection
// Teams SSO exchanges tokens through (tests/test_infra.py checks it agrees with aad.manifest.json and the app package).

@maxLength(20)
@minLength(4)
param resourceBaseName string

@maxLength(42)
param botDisplayName string

param botAadAppClientId string

@secure()
param botAadAppClientSecret string

param botTenantId string
param botAppDomain string
param connectionName string

@description('F0 is free for Teams (Teams is a standard channel); S1 only matters for premium channels.')
param botServiceSku string = 'F0'

// The delegated Graph permissions of aad.manifest.json, plus what the Azure AD v2 provider needs for sign-in and
// refresh. Space-separated, as the provider expects.
var graphScopes = 'openid profile offline_access VirtualAppointment.Read OnlineMeetings.Read Calendars.ReadWrite OnlineMeetings.ReadWrite Bookings.Read.All VirtualAppointmentNotification.Send Mail.Send'

resource botService 'Microsoft.BotService/botServices@2022-09-15' = {
  name: resourceBaseName
  location: 'global'
  kind: 'azurebot'
  sku: {
    name: botServiceSku
  }
  properties: {
    displayName: botDisplayName
    endpoint: 'https://${botAppDomain}/api/messages'
    msaAppId: botAadAppClientId
    msaAppType: 'SingleTenant'
    msaAppTenantId: botTenantId
    disableLocalAuth: false
  }
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: botService
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
  }
}

resource ssoConnection 'Microsoft.BotService/botServices/connections@2022-09-15' = {
  parent: botService
  name: connectionName
  location: 'global'
  properties: {
    serviceProviderDisplayName: 'Azure Active Directory v2'
    serviceProviderId: '30dd229c-58e3-4a48-bdfd-91ec48eb906c'
    clientId: botAadAppClientId
    clientSecret: botAadAppClientSecret
    scopes: graphScopes
    parameters: [
      {
        key: 'tenantID'
        value: botTenantId
      }
      {
        key: 'tokenExchangeUrl'
        value: 'api://botid-${botAadAppClientId}'
      }
    ]
  }
}
