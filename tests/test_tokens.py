"""The token check against the pool's key set, when the key server fails or is flooded."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from tests.helpers import volunteer


@pytest.fixture
def keys(monkeypatch):
    """The process's key client, fresh for this test; its fetches are counted."""
    from chalicelib.auth import tokens

    monkeypatch.setattr(tokens, "_client", None)
    fetched: list[str] = []
    new_client = tokens._new_client

    def counted(url: str):
        client = new_client(url)
        fetch = client.fetch_data

        def fetch_counted():
            fetched.append(url)
            return fetch()

        client.fetch_data = fetch_counted
        return client

    monkeypatch.setattr(tokens, "_new_client", counted)
    return fetched


def _forged(kid: str) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    header = part({"alg": "RS256", "kid": kid, "typ": "JWT"})
    return f"{header}.{part({'sub': 'x'})}.{part({'sig': 'nope'})}"


def test_made_up_key_ids_do_not_make_requests_fetch_the_keys(api, keys):
    vol = volunteer(api)
    assert api.get("/me", token=vol.token).status == 200
    before = len(keys)
    replies = [api.get("/me", token=_forged(str(uuid.uuid4()))) for _ in range(20)]
    assert {r.status for r in replies} == {401}
    assert len(keys) - before <= 1  # one refresh, then the cool-down


def test_keys_fetched_before_an_outage_stay_in_use(api, keys, monkeypatch):
    from jwt.exceptions import PyJWKClientConnectionError

    from chalicelib.auth import tokens

    vol = volunteer(api)
    assert api.get("/me", token=vol.token).status == 200
    client = tokens._keys()

    def down():
        raise PyJWKClientConnectionError("connection refused")

    monkeypatch.setattr(client, "fetch_data", down)
    monkeypatch.setattr(client.jwk_set_cache, "is_expired", lambda: True)  # time to refetch
    assert api.get("/me", token=vol.token).status == 200


def test_a_key_server_outage_is_a_503_never_a_401_or_a_500(api, keys, monkeypatch):
    from chalicelib import config

    vol = volunteer(api)
    monkeypatch.setenv("JWKS_URL", "http://127.0.0.1:9/.well-known/jwks.json")  # nothing there
    config.reset()
    reply = api.get("/me", token=vol.token)
    assert reply.status == 503, reply
    assert reply.body["Code"] == "ServiceUnavailableError"
    assert int(reply.headers["Retry-After"]) > 0
