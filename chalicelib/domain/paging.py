"""One page of a list, and the cursor to the next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Page:
    """One page of a list: the items and the opaque cursor of the next page."""

    items: list[Any]
    next_cursor: str | None
