"""Storage errors the rest of the bot recognises, apart from the Azure SDK (imported only when BotStorage=blob)."""


class EtagConflictError(Exception):
    """A write carried an ETag that is no longer the stored one. The text contains "Etag conflict", which is
    what botbuilder's SSO middleware and our callers match on."""
