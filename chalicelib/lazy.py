"""Modules loaded on first use.

The API is one Lambda function: every cold start imports every blueprint, but a request
needs only its own route's logic. A blueprint therefore names the logic modules it calls
through `lazy(...)`, and a module is imported the first time one of its attributes is
read (by `importlib.import_module`, whose per-module locks make that safe when threads
race for it). Type checkers see the real import instead:

    if TYPE_CHECKING:
        from chalicelib.logic import campaigns
    else:
        campaigns = lazy("chalicelib.logic.campaigns")
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded yet"
        return f"<lazy module {self._name!r}, {state}>"


def lazy(name: str) -> Any:
    """A stand-in for module `name` that imports it when an attribute is first read."""
    return LazyModule(name)
