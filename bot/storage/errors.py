"""Storage errors the rest of the bot recognises, apart from the Azure SDK (imported only when BotStorage=blob)."""


class EtagConflictError(Exception):
    """A write carried an ETag that is no longer the stored one. The text contains "Etag conflict", which is
    what botbuilder's SSO middleware and our callers match on."""


class StorageUnavailableError(Exception):
    """Storage did not answer within its deadline, or answered with a failure that is not about the item (5xx,
    throttling, refused connection, bad credentials). Nothing is known to be lost: the turn ends with one sentence
    and keeps the user's place. The message is a short reason, never the SDK's text (it may echo the account)."""
