"""/campaigns/{cid}/lists: voter lists, as JSON rows or CSV with a header row."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.http import json_body, page_body, page_params, parse, query_param, route
from chalicelib.errors import InvalidInput

if TYPE_CHECKING:
    from chalicelib.domain.lists import VoterList
    from chalicelib.logic.principal import Principal

bp = Blueprint(__name__)


def _list(voter_list: VoterList, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "list_id": voter_list.list_id,
        "campaign_id": voter_list.campaign_id,
        "name": voter_list.name,
        "provider": voter_list.provider,
        "crm_settings": voter_list.crm_settings,
        "state": voter_list.status,
        "rows_total": voter_list.rows_total,
        "rows_imported": voter_list.row_count,
        "rows_rejected": voter_list.rejected_count,
        "created_at": voter_list.created_at,
        "created_by": voter_list.created_by,
        # the names of before the import pipeline, kept for the clients that read them
        "status": voter_list.status,
        "row_count": voter_list.row_count,
        "rejected_count": voter_list.rejected_count,
    }
    if voter_list.failure:
        body["failure"] = voter_list.failure
    if errors is not None:
        body["errors"] = errors
    return body


# Lambda takes requests of 6 MB at most; a list inline stays well under that
MAX_LIST_BYTES = 5 * 1024 * 1024


@route(
    bp,
    "/campaigns/{cid}/lists/uploads",
    methods=["POST"],
    idempotent=True,
    body="UploadIn",
    status=201,
    response="ListUpload",
)
def start_upload(principal: Principal, cid: str) -> Response:
    from chalicelib.logic import imports, inputs

    body = parse(inputs.UploadIn, json_body(bp.current_request))
    upload = imports.start_upload(
        principal, cid, body.name, body.provider, {"van_db_mode": body.van_db_mode}
    )
    return Response(
        body={
            **_list(upload.voter_list),
            "upload_url": upload.upload_url,
            "expires_at": upload.expires_at,
        },
        status_code=201,
    )


@route(
    bp,
    "/campaigns/{cid}/lists",
    methods=["POST"],
    content_types=["application/json", "text/csv"],
    idempotent=True,
    body="ListIn",
    status=201,
    response="VoterList",
    # with `Content-Type: text/csv`, what the JSON body would carry
    query={
        "name": {"type": "string"},
        "provider": {"type": "string", "enum": ["van", "pdi", "salsa"]},
        "van_db_mode": {"type": "integer", "enum": [0, 1]},
    },
)
def upload_list(principal: Principal, cid: str) -> Response:
    """A small list inline: checked at once, imported by the same pipeline as uploads."""
    from chalicelib.logic import imports, inputs, lists

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
        fields = {"van_db_mode": query_param(request, "van_db_mode")}
        _count, rows = lists.csv_rows(raw.encode() if isinstance(raw, str) else raw)
        result = imports.inline_upload(principal, cid, name, list(rows), provider, fields)
    else:
        body = parse(inputs.ListIn, json_body(request, max_bytes=MAX_LIST_BYTES))
        result = imports.inline_upload(
            principal, cid, body.name, body.rows, body.provider, {"van_db_mode": body.van_db_mode}
        )
    return Response(
        body={
            **_list(result.voter_list),
            "state": "importing",
            "status": "importing",
            "row_count": result.row_count,
            "rejected_count": result.rejected_count,
            "rows_rejected": result.rejected_count,
            "warnings_count": result.warnings_count,
            "problems": result.problems,
        },
        status_code=201,
    )


@route(bp, "/campaigns/{cid}/lists", methods=["GET"], paged=True, response="Page[VoterList]")
def list_lists(principal: Principal, cid: str) -> dict[str, Any]:
    from chalicelib.logic import lists

    limit, cursor = page_params(bp.current_request)
    page = lists.list_lists(principal, cid, limit=limit, cursor=cursor)
    return page_body([_list(v) for v in page.items], page.next_cursor)


@route(bp, "/campaigns/{cid}/lists/{lid}", methods=["GET"], response="VoterList")
def get_list(principal: Principal, cid: str, lid: str) -> dict[str, Any]:
    from chalicelib.logic import lists

    voter_list, errors = lists.get_list(principal, cid, lid)
    return _list(voter_list, errors)


@route(bp, "/campaigns/{cid}/lists/{lid}", methods=["DELETE"], status=204)
def delete_list(principal: Principal, cid: str, lid: str) -> Response:
    from chalicelib.logic import imports

    imports.delete_list(principal, cid, lid)
    return Response(body="", status_code=204)
