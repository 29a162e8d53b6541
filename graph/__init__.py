"""Microsoft Graph for virtual appointments: `client` (GraphClient), `errors` (the error tree), `references`
(what users paste), `models` (typed results), `legacy` (the deprecated beta resource), `simulator` (loopback Graph).

Imports nothing from botbuilder, bot, dialogs or config, so it can move to another bot SDK unchanged.
"""
