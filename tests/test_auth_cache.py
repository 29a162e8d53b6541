"""The inbound-token cache remembers a passed check only for the same token, channel and service URL, until exp."""

import time
from types import SimpleNamespace

from botbuilder.schema import Activity

from bot.sdk.auth_cache import AuthenticationCache


def _result(exp):
    return SimpleNamespace(claims_identity=SimpleNamespace(claims={"exp": exp}))


def _activity(service_url="https://smba.example/", channel="msteams"):
    return Activity(type="message", channel_id=channel, service_url=service_url)


def test_hit_only_for_the_same_token_channel_and_service_url():
    cache = AuthenticationCache()
    result = _result(time.time() + 600)
    cache.put("Bearer a", _activity(), result)
    assert cache.get("Bearer a", _activity()) is result
    assert cache.get("Bearer b", _activity()) is None
    assert cache.get("Bearer a", _activity(service_url="https://other.example/")) is None
    assert cache.get("Bearer a", _activity(channel="webchat")) is None


def test_expired_and_anonymous_results_are_not_served():
    cache = AuthenticationCache()
    cache.put("Bearer old", _activity(), _result(time.time() - 1))
    assert cache.get("Bearer old", _activity()) is None
    cache.put("", _activity(), _result(time.time() + 600))  # local mode: no header, nothing to remember
    assert cache.get("", _activity()) is None


def test_bounded():
    cache = AuthenticationCache(max_entries=3)
    for i in range(5):
        cache.put(f"Bearer {i}", _activity(), _result(time.time() + 600))
    assert [cache.get(f"Bearer {i}", _activity()) is not None for i in range(5)] == [False, False, True, True, True]
