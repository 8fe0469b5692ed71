"""/health: is the API up."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import route

bp = Blueprint(__name__)


@route(bp, "/health", methods=["GET"], public=True)
def health() -> dict[str, str]:
    return {"status": "ok"}
