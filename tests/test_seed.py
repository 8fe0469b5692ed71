"""The demo seed confirms TOTP enrolment even when a step ends mid-request."""

from __future__ import annotations

import io
import urllib.error

import pyotp
import pytest

from devstack import seed

SECRET = "IATCWC7QBWNJXUGIGPZWSISYD6DKJXOC"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _rejected() -> urllib.error.HTTPError:
    return urllib.error.HTTPError("http://x/me/mfa/totp/verify", 400, "Bad", {}, io.BytesIO(b"{}"))  # type: ignore[arg-type]


def test_a_step_ending_mid_request_is_retried_with_the_new_previous_step(monkeypatch):
    clock = Clock(30 * 1000 + 29.99)  # the last hundredth of step 1000
    sent: list[str] = []

    def server(base, method, path, body=None, token=None):
        sent.append(body["code"])
        if len(sent) == 1:
            clock.now += 1  # the request arrives in step 1001: step 999 is out of the window
            raise _rejected()

    monkeypatch.setattr(seed.time, "time", clock)
    monkeypatch.setattr(seed, "_call", server)
    seed._verify_with_previous_step("http://x", SECRET, "token")

    totp = pyotp.TOTP(SECRET)
    assert sent == [totp.at(999 * 30), totp.at(1000 * 30)]


def test_a_wrong_code_within_the_same_step_is_not_retried(monkeypatch):
    clock = Clock(30 * 1000 + 5)
    sent: list[str] = []

    def server(base, method, path, body=None, token=None):
        sent.append(body["code"])
        raise _rejected()

    monkeypatch.setattr(seed.time, "time", clock)
    monkeypatch.setattr(seed, "_call", server)
    with pytest.raises(urllib.error.HTTPError):
        seed._verify_with_previous_step("http://x", SECRET, "token")
    assert len(sent) == 1
