"""Whose address a request counts under: API Gateway's caller, or, behind the console's
CloudFront distribution, the viewer CloudFront names, but only when CloudFront proves it sent
the request (the origin secret); nobody else can choose the address they are counted under."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import config
from chalicelib.api.http import source_ip

SECRET = "s" * 48


class _Request:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.context: dict[str, Any] = {"identity": {"sourceIp": "130.176.0.1"}}  # an edge


@pytest.fixture
def behind_cloudfront(monkeypatch):
    monkeypatch.setenv("ORIGIN_SECRET", SECRET)
    config.origin_secret.cache_clear()
    yield
    config.origin_secret.cache_clear()


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [("198.51.100.7:46532", "198.51.100.7"), ("2001:db8::7:46532", "2001:db8::7")],
)
def test_a_request_cloudfront_proves_it_sent_counts_under_its_viewer(
    behind_cloudfront, viewer, expected
):
    request = _Request({"X-Origin-Verify": SECRET, "CloudFront-Viewer-Address": viewer})
    assert source_ip(request) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Origin-Verify": "guessed", "CloudFront-Viewer-Address": "198.51.100.7:1"},
        {"X-Origin-Verify": SECRET[:-1], "CloudFront-Viewer-Address": "198.51.100.7:1"},
        {"CloudFront-Viewer-Address": "198.51.100.7:1"},
        {"X-Origin-Verify": SECRET},
        {"X-Origin-Verify": SECRET, "CloudFront-Viewer-Address": "no port"},
    ],
    ids=["wrong-secret", "short-secret", "no-proof", "no-viewer", "malformed-viewer"],
)
def test_anything_else_counts_under_the_address_api_gateway_saw(behind_cloudfront, headers):
    assert source_ip(_Request(headers)) == "130.176.0.1"  # type: ignore[arg-type]


def test_without_a_distribution_the_headers_count_for_nothing(monkeypatch):
    """The local stack has no origin secret: a caller naming one is not believed."""
    monkeypatch.delenv("ORIGIN_SECRET", raising=False)
    monkeypatch.delenv("ORIGIN_SECRET_ARN", raising=False)
    config.origin_secret.cache_clear()
    request = _Request({"X-Origin-Verify": "", "CloudFront-Viewer-Address": "198.51.100.7:1"})
    assert source_ip(request) == "130.176.0.1"  # type: ignore[arg-type]
    request = _Request({"X-Origin-Verify": "x", "CloudFront-Viewer-Address": "198.51.100.7:1"})
    assert source_ip(request) == "130.176.0.1"  # type: ignore[arg-type]


def test_sign_in_throttles_count_each_viewer_apart(api, behind_cloudfront, monkeypatch):
    """Behind CloudFront, one viewer's wrong passwords do not throttle another's sign-in."""
    from tests.helpers import PASSWORD, sign_up

    person = sign_up(api, "edge")
    for _ in range(10):
        reply = api.post(
            "/auth/login",
            {"email": person.email, "password": "wrong-password"},
            headers={"X-Origin-Verify": SECRET, "CloudFront-Viewer-Address": "203.0.113.9:1"},
        )
        assert reply.status == 401, reply
    blocked = api.post(
        "/auth/login",
        {"email": person.email, "password": "wrong-password"},
        headers={"X-Origin-Verify": SECRET, "CloudFront-Viewer-Address": "203.0.113.9:2"},
    )
    assert blocked.status == 429, blocked
    other = api.post(
        "/auth/login",
        {"email": person.email, "password": PASSWORD},
        headers={"X-Origin-Verify": SECRET, "CloudFront-Viewer-Address": "198.51.100.20:1"},
    )
    assert other.status == 200, other
