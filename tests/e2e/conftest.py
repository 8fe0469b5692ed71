"""The local stack as a user runs it (`python -m devstack`, what `make run` starts),
in a subprocess on free ports, talked to over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from devstack.child import LocalStack, start
from tests.helpers import Api, http_transport


@pytest.fixture(scope="module")
def local_stack() -> Iterator[LocalStack]:
    stack = start()
    yield stack
    stack.stop()


@pytest.fixture
def http_api(local_stack: LocalStack) -> Api:
    return Api(http_transport(local_stack.base_url))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
