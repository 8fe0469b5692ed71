"""The admin console in a real browser: Playwright (console/tests/*.spec.ts) driving Debian's
Chromium against the local stack, started here as a user starts it (`python -m devstack`)."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
