"""DynamoDB Local (AWS's own engine) for the data-layer tests.

One DynamoDB Local process per test session (`devstack.ddblocal`), stopped at the end.
Every test gets empty tables created from `infra/resources.json` and the app's settings
pointing at them; afterwards the environment is put back and the cached settings, clients
and pynamodb connections are reset, so the moto-based tests in the same session are
unaffected.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devstack import ddblocal
from devstack.stack import TABLES, apply, base_environment, create_tables

HERE = Path(__file__).resolve().parent
STAGE = "ddbtest"

# Settings the app requires but the data layer never uses (no Cognito, no KMS calls here).
DUMMY_SETTINGS = {
    "USER_POOL_ID": "us-east-1_ddbtest",
    "USER_POOL_CLIENT_ID": "ddbtest-client",
    "USER_POOL_CLIENT_SECRET": "ddbtest-client-secret",
    "KMS_KEY_ID": "ddbtest-key",
    "IMPORT_QUEUE_URL": "http://127.0.0.1:1/000000000000/unused",
    "APP_SECRET": "ddbtest-app-secret-that-is-long-enough-0123456789",
    # the secrets are the values above, not ones in Secrets Manager (which an emulator's
    # stack earlier in this process may have named)
    "APP_SECRET_ARN": "",
    "USER_POOL_CLIENT_SECRET_ARN": "",
}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.ddblocal)


@dataclass
class Tables:
    """What a test gets: the environment in force, and the tables to inspect directly."""

    endpoint: str
    env: dict[str, str]
    main: Any  # boto3 Table resources, for asserting what is stored
    sessions: Any
    ops: Any


@pytest.fixture(scope="session")
def dynamodb_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ddblocal.Server]:
    """DynamoDB Local for the whole session; stopped at the end, nothing left listening."""
    try:
        server = ddblocal.start(tmp_path_factory.mktemp("dynamodb-local"))
    except RuntimeError as exc:  # NotInstalled says what to run
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        if not server.stop():
            pytest.fail(f"port {server.port} still listening after DynamoDB Local was stopped")


def _drop_tables(client: Any) -> None:
    for name in client.list_tables()["TableNames"]:
        with contextlib.suppress(client.exceptions.ResourceNotFoundException):
            client.delete_table(TableName=name)


@pytest.fixture
def ddb(dynamodb_local: ddblocal.Server) -> Iterator[Tables]:
    """Empty tables on DynamoDB Local and the app's settings pointing at them."""
    endpoint = dynamodb_local.endpoint
    env = base_environment(endpoint, stage=STAGE)
    env.update(DUMMY_SETTINGS)
    # The service-specific variable wins over AWS_ENDPOINT_URL: set it too, in case the
    # outer environment has one.
    env["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    saved = {name: os.environ.get(name) for name in env}

    _drop_tables(dynamodb_local.client())
    create_tables(env, endpoint)
    resource = dynamodb_local.resource()
    try:
        apply(env)
        yield Tables(
            endpoint=endpoint,
            env=env,
            main=resource.Table(env[TABLES["MainTable"]]),
            sessions=resource.Table(env[TABLES["SessionsTable"]]),
            ops=resource.Table(env[TABLES["OpsTable"]]),
        )
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        apply({})  # forget settings, boto3 clients and pynamodb connections made for this test
