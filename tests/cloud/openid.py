"""Fake login.botframework.com: the OpenID metadata and JWKS the SDK reads to verify inbound channel tokens."""

from __future__ import annotations

import threading

from aiohttp import web

from .keys import SigningKey

CHANNEL_ISSUER = "https://api.botframework.com"


class FakeOpenIdMetadata:
    """Serves `/v1/.well-known/openidconfiguration` and its `jwks_uri`, counting fetches.

    The SDK caches the metadata per URL for a day in a class attribute (`JwtTokenExtractor.metadataCache`), so
    one process fetches it about once per cloud, not once per test.
    """

    def __init__(self, keys: list[SigningKey]) -> None:
        self._keys = keys
        self._lock = threading.Lock()
        self._metadata_requests = 0
        self._jwks_requests = 0
        self.base_url = ""

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/v1/.well-known/openidconfiguration"

    @property
    def requests(self) -> int:
        """Fetches of the metadata document since the last reset."""
        with self._lock:
            return self._metadata_requests

    @property
    def jwks_requests(self) -> int:
        with self._lock:
            return self._jwks_requests

    def reset(self) -> None:
        with self._lock:
            self._metadata_requests = self._jwks_requests = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/.well-known/keys", self._jwks)
        return app

    async def _metadata(self, request: web.Request) -> web.Response:
        with self._lock:
            self._metadata_requests += 1
        return web.json_response({
            "issuer": CHANNEL_ISSUER,
            "authorization_endpoint": f"{self.base_url}/v1/invalid",
            "jwks_uri": f"{self.base_url}/v1/.well-known/keys",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        })

    async def _jwks(self, request: web.Request) -> web.Response:
        with self._lock:
            self._jwks_requests += 1
        return web.json_response({"keys": [key.jwk() for key in self._keys]})
