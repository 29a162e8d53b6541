"""SDK cost: the Bot Connector and token service clients send every call with `requests` in a thread pool.

botframework-connector's async clients (ConnectorClient for replies, TokenApiClient for the user's token) are msrest
`ServiceClientAsync`s whose pipeline ends in `AsyncRequestsHTTPSender`: each call is a blocking `requests` call
handed to the default executor (a thread hop, `requests`, urllib3 and http.client per call, with proxy and CA-bundle
look-ups on the file system). A warm get-link turn makes two such calls (one token look-up, one reply), and profiled
they were the largest single cost of our turn. `use_aiohttp(client, session)` gives a client the same msrest pipeline
(user agent, credentials, raw deserialiser, HTTP logger; operations, (de)serialisation and exceptions unchanged) but
ending in the app's one aiohttp session on the event loop. Applied by bot/sdk/client_cache.py to the clients it caches.

Kept as msrest did it: the client's timeout (`config.connection.timeout`) and redirect policy, its headers, the
bearer token from the client's credentials (`signed_session`), and transport failures raised as msrest's
`ClientRequestError`. Not carried over: `requests`' proxy settings from the environment (the session makes no
proxied calls, as for Graph) and its CA bundle (the system's trust store is used, as for Graph).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import requests
from msrest.exceptions import ClientRequestError
from msrest.pipeline import Request, Response, SansIOHTTPPolicy
from msrest.pipeline.async_abc import AsyncHTTPSender, AsyncPipeline
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http import ClientRequest
from msrest.universal_http.async_abc import AsyncClientResponse
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from bot.telemetry import record

SessionSource = Callable[[], aiohttp.ClientSession]


class _Headers:
    """What `signed_session` needs of a `requests.Session`: somewhere to put the Authorization header."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}


class CredentialsPolicy(SansIOHTTPPolicy[ClientRequest, Any]):
    """The bearer header, from the client's credentials exactly as msrest's requests policy gets it."""

    def __init__(self, credentials: Any) -> None:
        self._credentials = credentials

    def on_request(self, request: Request[ClientRequest], **kwargs: Any) -> None:
        signed = _Headers()
        self._credentials.signed_session(signed)
        request.http_request.headers.update(signed.headers)


class LoadedResponse(AsyncClientResponse):
    """An aiohttp response read in full, shaped as msrest's requests-based responses: `internal_response` is a
    `requests.Response` (what msrest's errors expose as `exc.response`, read by the reply retry and by anyone
    looking at a failed call's status, headers or body)."""

    def __init__(self, request: ClientRequest, raw: aiohttp.ClientResponse, body: bytes) -> None:
        loaded = requests.Response()
        loaded.status_code = raw.status
        loaded.headers = CaseInsensitiveDict(raw.headers)
        loaded.reason = raw.reason or ""
        loaded.url = str(raw.url)
        loaded._content = body
        loaded.encoding = get_encoding_from_headers(loaded.headers) or "utf-8"
        super().__init__(request, loaded)
        self.status_code = loaded.status_code
        self.headers = loaded.headers
        self.reason = loaded.reason
        self._body = body

    def body(self) -> bytes:
        return self._body

    def raise_for_status(self) -> None:
        self.internal_response.raise_for_status()

    def stream_download(self, chunk_size: int | None = None, callback: Any = None) -> Any:
        raise NotImplementedError("the connector and token clients read whole bodies")


class AiohttpSender(AsyncHTTPSender[ClientRequest, AsyncClientResponse]):
    """The end of the pipeline: one request on the shared session, body read, connection back to the pool."""

    def __init__(self, session: SessionSource, config: Any) -> None:
        self._session = session
        self._config = config

    async def __aenter__(self) -> AiohttpSender:
        return self

    async def __aexit__(self, *exc_details: Any) -> None:
        return None  # the session belongs to the app

    async def send(
        self, request: Request[ClientRequest], **config: Any
    ) -> Response[ClientRequest, AsyncClientResponse]:
        http: ClientRequest = request.http_request
        if http.files:
            raise ClientRequestError("multipart uploads are not sent by this transport")
        headers = {**self._config.headers, **http.headers}
        timeout = aiohttp.ClientTimeout(total=self._config.connection.timeout)
        with record.http_call(http.method, http.url) as call:  # telemetry: an event of the current span
            try:
                async with self._session().request(
                    http.method, http.url, headers=headers, data=http.data, timeout=timeout,
                    allow_redirects=bool(self._config.redirect_policy),
                    max_redirects=max(1, int(self._config.redirect_policy())),
                ) as raw:
                    body = await raw.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                if call is not None:
                    call.failed(exc)
                raise ClientRequestError("Error occurred in request.", inner_exception=exc) from exc
            if call is not None:
                call.status(raw.status)
        return Response(request, LoadedResponse(http, raw, body))


def use_aiohttp(client: Any, session: SessionSource) -> Any:
    """Give an msrest async client (ConnectorClient, TokenApiClient) a pipeline ending in `session`; returns it."""
    config = client.config
    policies: list[Any] = [config.user_agent_policy, RawDeserializer(), config.http_logger_policy]
    if config.credentials:
        policies.insert(1, CredentialsPolicy(config.credentials))
    config.pipeline = AsyncPipeline(policies, AiohttpSender(session, config))
    return client
