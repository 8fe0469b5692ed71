"""boto3 clients, created on first use and kept for the life of the process."""

from __future__ import annotations

import threading
from typing import Any

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    """A shared client; the endpoint comes from the environment (AWS_ENDPOINT_URL*)."""
    found = _clients.get(service)
    if found is None:
        import boto3

        from chalicelib.config import settings

        with _lock:
            found = _clients.get(service)
            if found is None:
                found = boto3.session.Session().client(service, region_name=settings().region)
                _clients[service] = found
    return found


def reset() -> None:
    """Forget every client (tests and the local stack change endpoints)."""
    with _lock:
        _clients.clear()
