// Everything the bot runs on, for `atk provision` (m365agents.yml, arm/deploy) or `az deployment group create`.
// The Entra app (bot identity and SSO) is made by aadApp/create from aad.manifest.json before this runs; its id and
// secret arrive as parameters. Outputs are written to env/.env.<environment> by the toolkit: never a secret there.

@maxLength(20)
@minLength(4)
@description('Prefix of every resource name (lower-case letters and digits).')
param resourceBaseName string

@description('The bot\'s Entra app id (aadApp/create clientId).')
param botAadAppClientId string

@secure()
@description('That app\'s client secret: the bot\'s MicrosoftAppPassword and the OAuth connection\'s secret.')
param botAadAppClientSecret string

@description('The directory the app is registered in: the bot is SingleTenant.')
param botTenantId string = subscription().tenantId

@maxLength(42)
param botDisplayName string

@description('App Service plan SKU: B1 is the smallest with Always On; P0v3 or above for zone redundancy.')
param webAppSku string = 'B1'

@description('The Python CI tests (App Service Linux runtime string).')
param linuxFxVersion string = 'PYTHON|3.11'

@description('The Azure Bot OAuth connection Teams SSO uses (the bot\'s ConnectionName).')
param connectionName string = 'GraphConnection'

@description('Comma-separated tenants allowed to use the bot (AllowedTenantIds); the bot\'s own tenant by default.')
param allowedTenantIds string = botTenantId

@description('Blob container for state, SSO de-duplication and reminders (BlobContainer).')
param stateContainerName string = 'botstate'

param location string = resourceGroup().location

var webAppName = resourceBaseName
var storageName = toLower(take(replace('${resourceBaseName}st${uniqueString(resourceGroup().id)}', '-', ''), 24))
// The exact command App Service runs from the deployed folder; tests/test_startup_command.py runs it too.
var startupCommand = 'python app.py'

resource logs 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: '${resourceBaseName}-logs'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${resourceBaseName}-insights'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    IngestionMode: 'LogAnalytics'
  }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35:the web app reaches the account over its public endpoint (TLS 1.2, account key); deny-by-default needs VNet integration and a private endpoint, beyond a Basic plan
  // checkov:skip=CKV_AZURE_206:LRS keeps three copies in one datacentre; the state is recoverable (a lost document only restarts that user's conversation), so ZRS/GRS cost is not worth it here
  // checkov:skip=CKV_AZURE_43:the name is computed (toLower, letters and digits, take 24), which checkov cannot evaluate
  name: storageName
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    supportsHttpsTrafficOnly: true
    accessTier: 'Hot'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource stateContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: stateContainerName
  properties: {
    publicAccess: 'None'
  }
}

// SSO de-duplication claims expire after 5 minutes and are only overwritten, never swept (bot/storage/blob.py);
// sent-reminder claims matter until the occurrence is past (bot/reminders/blob_store.py).
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-sso-exchange'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              prefixMatch: ['${stateContainerName}/sso-exchange/']
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: 1
                }
              }
            }
          }
        }
        {
          // "Email the link" claims: one per card and recipient; a card older than this may email once more.
          name: 'delete-mail-claims'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              prefixMatch: ['${stateContainerName}/mail-sent/']
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: 30
                }
              }
            }
          }
        }
        {
          name: 'delete-sent-reminders'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              prefixMatch: ['${stateContainerName}/reminders/sent/']
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: 2
                }
              }
            }
          }
        }
      ]
    }
  }
}

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  // checkov:skip=CKV_AZURE_225:zone redundancy needs Premium v3 with three or more instances; a clinic's bot runs on one Basic instance (webAppSku raises it)
  name: '${resourceBaseName}-plan'
  location: location
  kind: 'linux'
  sku: {
    name: webAppSku
  }
  properties: {
    reserved: true
  }
}

resource webApp 'Microsoft.Web/sites@2023-12-01' = {
  // checkov:skip=CKV_AZURE_222:Teams (the Bot Connector) must reach /api/messages from the internet; every request is authenticated by the Bot Framework JWT
  // checkov:skip=CKV_AZURE_17:the Bot Connector authenticates with a bearer JWT and presents no client certificate; requiring one would refuse Teams
  // checkov:skip=CKV_AZURE_212:one instance by default; BotStorage=blob lets the plan scale out (README, Scaling out) when a clinic needs failover
  name: webAppName
  location: location
  kind: 'app,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    siteConfig: {
      linuxFxVersion: linuxFxVersion
      appCommandLine: startupCommand
      healthCheckPath: '/healthz'
      alwaysOn: true
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      httpLoggingEnabled: true
      detailedErrorLoggingEnabled: true
      requestTracingEnabled: true
      logsDirectorySizeLimit: 35
    }
  }
}

// Every setting of the README's configuration table that a deployment needs (config.py reads them).
resource appSettings 'Microsoft.Web/sites/config@2023-12-01' = {
  // checkov reads this `appsettings` child as the site's web configuration; that configuration is webApp's siteConfig.
  // checkov:skip=CKV_AZURE_63:HTTP logging is on in webApp siteConfig (httpLoggingEnabled); this resource holds app settings only
  // checkov:skip=CKV_AZURE_65:detailed error logging is on in webApp siteConfig; this resource holds app settings only
  // checkov:skip=CKV_AZURE_66:failed request tracing is on in webApp siteConfig; this resource holds app settings only
  // checkov:skip=CKV_AZURE_80:a Python app: no .NET Framework
  // checkov:skip=CKV_AZURE_88:no Azure Files mount: the app is stateless, its state is in Blob Storage
  // checkov:skip=CKV_AZURE_13:the bot authenticates every /api/messages request itself (Bot Framework JWT); App Service Authentication would refuse the Bot Connector
  // checkov:skip=CKV_AZURE_222:Teams must reach /api/messages from the internet (see webApp)
  parent: webApp
  name: 'appsettings'
  properties: {
    MicrosoftAppId: botAadAppClientId
    MicrosoftAppPassword: botAadAppClientSecret
    MicrosoftAppType: 'SingleTenant'
    MicrosoftAppTenantId: botTenantId
    ConnectionName: connectionName
    BotDomain: webApp.properties.defaultHostName
    AllowedTenantIds: allowedTenantIds
    BotStorage: 'blob'
    BlobConnectionString: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}'
    BlobContainer: stateContainer.name
    PORT: '8000'
    LOG_LEVEL: 'INFO'
    APPLICATIONINSIGHTS_CONNECTION_STRING: insights.properties.ConnectionString
    // Oryx installs requirements.txt (runtime only) into a virtualenv during the zip deployment.
    SCM_DO_BUILD_DURING_DEPLOYMENT: 'true'
  }
}

module azureBotRegistration './botRegistration/azurebot.bicep' = {
  name: 'Azure-Bot-registration'
  params: {
    resourceBaseName: resourceBaseName
    botDisplayName: botDisplayName
    botAadAppClientId: botAadAppClientId
    botAadAppClientSecret: botAadAppClientSecret
    botTenantId: botTenantId
    botAppDomain: webApp.properties.defaultHostName
    connectionName: connectionName
  }
}

// Written to env/.env.<environment> by arm/deploy; used by deploy (zipDeploy) and the app package build.
output BOT_AZURE_APP_SERVICE_RESOURCE_ID string = webApp.id
output BOT_DOMAIN string = webApp.properties.defaultHostName
