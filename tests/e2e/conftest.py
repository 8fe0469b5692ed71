"""The local stack as a user runs it (`python -m devstack`, what `make run` starts),
in a subprocess on free ports, talked to over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.child import LocalStack, start
from tests.fakes.van import FakeVan
from tests.helpers import Api, http_transport


@pytest.fixture(scope="module")
def local_stack() -> Iterator[LocalStack]:
    stack = start()
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def van() -> Iterator[FakeVan]:
    """A VAN stand-in for the module's tests; none of them may make a forbidden call to it."""
    with FakeVan() as fake:
        yield fake
        fake.assert_no_forbidden_calls()


@pytest.fixture(scope="module")
def stack_with_van(van: FakeVan) -> Iterator[LocalStack]:
    """The local stack, without demo data, syncing to the VAN stand-in."""
    stack = start({"VAN_API_URL": van.url, "SEED": "false"})
    yield stack
    stack.stop()


@pytest.fixture
def http_api(local_stack: LocalStack) -> Api:
    return Api(http_transport(local_stack.base_url))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


class Operator:
    """Operator commands (`python -m tools....`) run against a local stack, with the
    settings its banner names, as a person at a terminal would run them; and boto3 clients
    on its emulator, to look at what is stored."""

    def __init__(self, stack: LocalStack) -> None:
        import os

        from devstack.child import ROOT

        env_file = next(
            line.split(". ", 1)[1].split(";")[0].strip()
            for line in stack.output
            if "Operator commands on this stack" in line
        )
        self.env = dict(os.environ)
        for line in (ROOT / env_file).read_text().splitlines():
            key, _, value = line.partition("=")
            if key:
                self.env[key] = value
        self.root = ROOT

    def run(self, *args: str, stdin: str = "") -> Any:
        import subprocess
        import sys

        return subprocess.run(
            [sys.executable, "-m", *args],
            cwd=self.root,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def client(self, service: str) -> Any:
        import boto3

        return boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
        ).client(service, endpoint_url=self.env["AWS_ENDPOINT_URL"])

    def scan(self, table: str) -> list[dict[str, Any]]:
        """Every item of a table (by its setting's name, e.g. MAIN_TABLE), as plain JSON."""
        from boto3.dynamodb.types import TypeDeserializer

        plain = TypeDeserializer()
        pages = self.client("dynamodb").get_paginator("scan")
        return [
            {k: plain.deserialize(v) for k, v in item.items()}
            for page in pages.paginate(TableName=self.env[table], ConsistentRead=True)
            for item in page["Items"]
        ]


@pytest.fixture(scope="module")
def operator(local_stack: LocalStack) -> Operator:
    return Operator(local_stack)
