"""The allow-list: the endpoints (method + path template) a CRM client may call, the ones
none may ever call (`NEVER_CALL`: they create, merge or delete a person), and the base URLs
a client may be pointed at."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

Guard = Callable[[Any], str | None]
"""Vets a JSON body: returns None when it may be sent, else the reason it may not."""

PATH_PARAM = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Endpoint:
    """One callable endpoint: an HTTP method and a path template like ``/people/{vanId}``."""

    method: str
    path: str
    guard: Guard | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.method != self.method.upper() or not self.method.isalpha():
            raise ValueError(f"bad HTTP method {self.method!r}")
        if not self.path.startswith("/") or "?" in self.path or "//" in self.path:
            raise ValueError(f"bad path template {self.path!r}")
        for segment in self.segments:
            if ("{" in segment or "}" in segment) and not PATH_PARAM.match(segment):
                raise ValueError(f"bad path template {self.path!r}")

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.strip("/").split("/")) if self.path != "/" else ()

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(m.group(1) for s in self.segments if (m := PATH_PARAM.match(s)))

    def overlaps(self, other: Endpoint) -> bool:
        """Could one concrete request match both templates?"""
        if self.method != other.method or len(self.segments) != len(other.segments):
            return False
        return all(
            a == b or PATH_PARAM.match(a) is not None or PATH_PARAM.match(b) is not None
            for a, b in zip(self.segments, other.segments, strict=True)
        )

    def matches_path(self, method: str, path: str) -> bool:
        """Does a concrete (already substituted, unquoted) path match this template?"""
        parts = tuple(path.strip("/").split("/")) if path.strip("/") else ()
        if method != self.method or len(parts) != len(self.segments):
            return False
        return all(
            a == b or (PATH_PARAM.match(a) is not None and b != "")
            for a, b in zip(self.segments, parts, strict=True)
        )

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


NEVER_CALL: Mapping[str, tuple[Endpoint, ...]] = {
    # NGP VAN: findOrCreate and its alias, merges, deletes, bulk imports (CreateOrUpdateContact).
    "van": (
        Endpoint("POST", "/people/findOrCreate"),
        Endpoint("POST", "/people/{vanId}"),
        Endpoint("PUT", "/people/{vanId}/mergeInto"),
        Endpoint("DELETE", "/people/{vanId}"),
        Endpoint("POST", "/bulkImportJobs"),
        Endpoint("POST", "/bulkImportJobs/{jobId}"),
        Endpoint("POST", "/bulkImportMappingTypes"),
    ),
    # PDI: creating or changing a contact, or adding phones, e-mails, addresses to one.
    "pdi": (
        Endpoint("POST", "/contacts"),
        Endpoint("PUT", "/contacts/{id}"),
        Endpoint("DELETE", "/contacts/{id}"),
        Endpoint("POST", "/contacts/{id}/phones"),
        Endpoint("POST", "/contacts/{id}/emails"),
        Endpoint("POST", "/contacts/{id}/addresses"),
    ),
    # Salsa: creating segments, merging or deleting supporters.
    "salsa": (
        Endpoint("PUT", "/segments"),
        Endpoint("POST", "/supporters/merge"),
        Endpoint("DELETE", "/supporters"),
    ),
}
"""Endpoints that create, merge or delete a person: never on any allow-list."""

GUARD_REQUIRED: tuple[Endpoint, ...] = (Endpoint("PUT", "/supporters"),)
"""Endpoints that add a person unless the body says otherwise: only allowed with a guard."""


def check_base_url(base_url: str) -> str:
    """HTTPS only (plain HTTP is allowed to a loopback host: tests, the local stack)."""
    parts = urlsplit(base_url)
    if parts.username or parts.password:
        raise ValueError("the CRM base URL must not carry credentials")
    if not parts.hostname:
        raise ValueError("the CRM base URL needs a host")
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        raise ValueError("the CRM base URL must be https")
    if parts.query or parts.fragment:
        raise ValueError("the CRM base URL must not carry a query")
    return base_url.rstrip("/")
