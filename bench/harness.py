"""What the benchmarks share: counting the AWS calls a piece of code makes (through every
botocore client, pynamodb's included), and the local engines the app runs on."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any


def by_service(client: Any, operation: str) -> str:
    return str(client.meta.service_model.service_name)


def dynamodb_operations(client: Any, operation: str) -> str | None:
    return operation if client.meta.service_model.service_name == "dynamodb" else None


@contextlib.contextmanager
def counting(
    key: Callable[[Any, str], str | None] = by_service,
) -> Iterator[Counter[str]]:
    """Calls made inside the block, counted under `key(client, operation)` (None: not
    counted)."""
    import botocore.client

    calls: Counter[str] = Counter()
    original = botocore.client.BaseClient._make_api_call

    def counted(client: Any, operation: str, params: Any) -> Any:
        name = key(client, operation)
        if name is not None:
            calls[name] += 1
        return original(client, operation, params)

    botocore.client.BaseClient._make_api_call = counted  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


@contextlib.contextmanager
def on_dynamodb_local(stage: str = "bench") -> Iterator[dict[str, str]]:
    """The app pointed at a fresh DynamoDB Local (its tables created) and, for everything
    else (KMS, S3, Secrets Manager), the moto server in this process; yields the settings."""
    from devstack import ddblocal
    from devstack.stack import Emulator, apply, base_environment, create_tables, provision

    emulator = Emulator.start()
    emulator.reset()  # moto's state is the process's: a second run starts empty too
    try:
        with ddblocal.running() as server:
            env = base_environment(emulator.endpoint, stage=stage)
            env.update(provision(env))
            env["AWS_ENDPOINT_URL_DYNAMODB"] = server.endpoint
            create_tables(env, server.endpoint)
            apply(env)
            yield env
    finally:
        emulator.stop()
