"""/campaigns/{cid}/lists: voter lists, as JSON rows or CSV with a header row.

Request schemas are imported inside the views that parse a body: pydantic costs
~70 ms of cold start, which no other request should pay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.http import json_body, page_body, page_params, parse, query_param, route
from chalicelib.errors import InvalidInput
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.domain import VoterList
    from chalicelib.logic import lists
    from chalicelib.logic.principal import Principal
else:
    lists = lazy("chalicelib.logic.lists")

bp = Blueprint(__name__)


def _list(voter_list: VoterList) -> dict[str, Any]:
    return {
        "list_id": voter_list.list_id,
        "campaign_id": voter_list.campaign_id,
        "name": voter_list.name,
        "row_count": voter_list.row_count,
        "rejected_count": voter_list.rejected_count,
        "status": voter_list.status,
        "created_at": voter_list.created_at,
        "created_by": voter_list.created_by,
        "provider": voter_list.provider,
    }


# Lambda takes requests of 6 MB at most; a list inline stays well under that
MAX_LIST_BYTES = 5 * 1024 * 1024


@route(
    bp,
    "/campaigns/{cid}/lists",
    methods=["POST"],
    content_types=["application/json", "text/csv"],
    idempotent=True,
    body="ListIn",
    status=201,
    response="VoterList",
)
def upload_list(principal: Principal, cid: str) -> Response:
    from chalicelib.api import schemas

    request = bp.current_request
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type == "text/csv":
        name = (query_param(request, "name") or "").strip()
        if not name:
            raise InvalidInput("name", "is required (?name=) for a CSV upload")
        if len(name) > 200:
            raise InvalidInput("name", "at most 200 characters")
        raw = request.raw_body or b""
        if len(raw) > MAX_LIST_BYTES:
            raise InvalidInput("body", f"is larger than {MAX_LIST_BYTES} bytes")
        provider = query_param(request, "provider")
        count, rows = lists.csv_rows(raw.encode() if isinstance(raw, str) else raw)
        result = lists.upload_list(principal, cid, name, count, rows, provider)
    else:
        body = parse(schemas.ListIn, json_body(request, max_bytes=MAX_LIST_BYTES))
        result = lists.upload_list(
            principal, cid, body.name, len(body.rows), body.rows, body.provider
        )
    return Response(
        body={
            **_list(result.voter_list),
            "warnings_count": result.warnings_count,
            "problems": result.problems,
        },
        status_code=201,
    )


@route(bp, "/campaigns/{cid}/lists", methods=["GET"], paged=True, response="Page[VoterList]")
def list_lists(principal: Principal, cid: str) -> dict[str, Any]:
    limit, cursor = page_params(bp.current_request)
    page = lists.list_lists(principal, cid, limit=limit, cursor=cursor)
    return page_body([_list(v) for v in page.items], page.next_cursor)


@route(bp, "/campaigns/{cid}/lists/{lid}", methods=["GET"], response="VoterList")
def get_list(principal: Principal, cid: str, lid: str) -> dict[str, Any]:
    return _list(lists.get_list(principal, cid, lid))


@route(bp, "/campaigns/{cid}/lists/{lid}", methods=["DELETE"], status=204)
def delete_list(principal: Principal, cid: str, lid: str) -> Response:
    lists.delete_list(principal, cid, lid)
    return Response(body="", status_code=204)
