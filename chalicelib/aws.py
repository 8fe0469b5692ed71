"""AWS clients, created on first use and kept for the life of the process.

Every client comes from one boto3 session. A session reads each service's API model
the first time it makes a client for it, which is slow (`bench/cold_start.py`): with one session per
process that is paid once per service, not once per client (and pynamodb, left to itself,
makes a session and a client for every model class, in every thread).
"""

from __future__ import annotations

import threading
from typing import Any

_clients: dict[str, Any] = {}
_session: Any = None
_lock = threading.Lock()  # botocore sessions may not make clients from two threads at once


def _new_client(service: str, **options: Any) -> Any:
    """Called holding the lock."""
    from chalicelib.config import settings

    global _session
    if _session is None:
        import boto3

        _session = boto3.session.Session()
    return _session.client(service, region_name=settings().region, **options)


def client(service: str) -> Any:
    """A shared client; the endpoint comes from the environment (AWS_ENDPOINT_URL*)."""
    found = _clients.get(service)
    if found is None:
        with _lock:
            found = _clients.get(service)
            if found is None:
                found = _clients[service] = _new_client(service)
    return found


def dynamodb() -> Any:
    """The one DynamoDB client: pynamodb's models and transactions and the bulk writes.

    Configured as pynamodb configures its own clients: its timeouts and retries, and no
    client-side parameter validation. The data layer builds every request from validated
    domain objects and DynamoDB validates each one itself; checking every attribute against
    the API model again in Python cost as much as everything else done per item.
    """
    found = _clients.get(_DYNAMODB)
    if found is None:
        from botocore.config import Config
        from pynamodb.settings import get_settings_value

        config = Config(
            parameter_validation=False,
            connect_timeout=get_settings_value("connect_timeout_seconds"),
            read_timeout=get_settings_value("read_timeout_seconds"),
            max_pool_connections=get_settings_value("max_pool_connections"),
            retries={
                "total_max_attempts": 1 + get_settings_value("max_retry_attempts"),
                "mode": "standard",
            },
        )
        with _lock:
            found = _clients.get(_DYNAMODB)
            if found is None:
                found = _clients[_DYNAMODB] = _new_client("dynamodb", config=config)
    return found


_DYNAMODB = "dynamodb (data layer)"


def reset() -> None:
    """Forget every client (tests and the local stack change endpoints)."""
    with _lock:
        _clients.clear()
