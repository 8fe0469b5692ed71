"""/health: is the API up; /openapi.json: the API's contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chalice import Blueprint

from chalicelib.api.http import route

bp = Blueprint(__name__)


@route(bp, "/health", methods=["GET"], public=True, response="Status")
def health() -> dict[str, str]:
    """Whether the API answers."""
    return {"status": "ok"}


_OPENAPI = Path(__file__).with_name("openapi.json")


@route(bp, "/openapi.json", methods=["GET"], public=True)
def openapi() -> Any:
    """The OpenAPI 3.1 document of every route (generated from the code, committed)."""
    import json

    return json.loads(_OPENAPI.read_text())
