"""The OpenAPI 3.1 document of the API, generated from the code.

Each route registers what the document needs when it is declared (`api.http.route`:
its request schema by name, its success status, whether it pages); the request schemas
are the pydantic models of `logic/inputs.py`; every error has one shape. The document is
committed as `openapi.json` beside this module, which `GET /openapi.json` serves (no
pydantic at run time); a test keeps the file in step with the code, so a change to the
contract shows in review:

    .venv/bin/python -m chalicelib.api.openapi > chalicelib/api/openapi.json
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).with_name("openapi.json")

ERROR = {
    "type": "object",
    "required": ["Code", "Message"],
    "properties": {
        "Code": {"type": "string", "description": "The kind of error, e.g. BadRequestError"},
        "Message": {"type": "string", "description": "For people; clients branch on Reason"},
        "Field": {"type": "string", "description": "On 400: the input at fault"},
        "Reason": {
            "type": "string",
            "description": "A stable word, e.g. mfa_required, mfa_locked, last_admin",
        },
    },
}

ERRORS = {
    400: "Bad input: `Field` names it",
    401: "Not signed in, or bad credentials",
    403: "Signed in, not allowed (`Reason: mfa_required` when MFA is)",
    404: "Absent, or not visible to the caller",
    409: "Conflicts with the current state",
    422: "Well-formed, refused (e.g. a CRM refused the credentials)",
    429: "Throttled: retry after `Retry-After` seconds",
    503: "A service the request needs cannot be reached: retry after `Retry-After`",
    504: "A provider (a CRM) did not answer in time",
}

SUCCESS = {
    200: "Done",
    201: "Created",
    202: "Accepted",
    204: "Done, nothing to return",
}


def _summary(view: Any) -> str:
    doc = inspect.getdoc(view) or ""
    first = doc.strip().split("\n\n")[0].replace("\n", " ")
    return first or view.__name__.replace("_", " ")


def _schemas(names: set[str]) -> dict[str, Any]:
    from chalicelib.logic import inputs

    components: dict[str, Any] = {"Error": ERROR}
    for name in sorted(names):
        model = getattr(inputs, name)
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for key, definition in schema.pop("$defs", {}).items():
            components[key] = definition
        components[name] = schema
    return components


def _answers(names: set[str]) -> dict[str, Any]:
    from chalicelib.api import responses

    components: dict[str, Any] = {}
    for name in sorted(names):
        schema = getattr(responses, name).model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        for key, definition in schema.pop("$defs", {}).items():
            components[key] = definition
        components[name] = schema
    return components


def build() -> dict[str, Any]:
    """The document, from the app's registered routes."""
    import app  # noqa: F401  (registers every route)
    from chalicelib.api.http import ROUTES
    from chalicelib.api.responses import page_of

    paths: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    answered: set[str] = set()
    for doc in sorted(ROUTES, key=lambda d: (d.path, d.method)):
        operation: dict[str, Any] = {
            "operationId": doc.view.__name__,
            "summary": _summary(doc.view),
            "tags": [doc.path.strip("/").split("/")[0] or "root"],
        }
        parameters: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)}", doc.path)
        ]
        if doc.paged:
            parameters += [
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                },
                {"name": "cursor", "in": "query", "schema": {"type": "string"}},
            ]
        parameters += [
            {"name": name, "in": "query", "schema": schema} for name, schema in doc.query.items()
        ]
        if doc.idempotent:
            parameters.append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "schema": {"type": "string", "maxLength": 255},
                }
            )
        if parameters:
            operation["parameters"] = parameters
        if doc.body is not None:
            if doc.body == "object":
                schema: dict[str, Any] = {"type": "object"}
            else:
                used.add(doc.body)
                schema = {"$ref": f"#/components/schemas/{doc.body}"}
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schema}},
            }
        responses: dict[str, Any] = {}
        success: dict[str, Any] = {"description": SUCCESS.get(doc.status, "Done")}
        if doc.status != 204:
            answer: dict[str, Any] = {}
            if doc.response is not None:
                page = re.fullmatch(r"Page\[(\w+)\]", doc.response)
                name = page.group(1) if page else doc.response
                answered.add(name)
                answer = page_of(name) if page else {"$ref": f"#/components/schemas/{name}"}
            success["content"] = {"application/json": {"schema": answer}}
        responses[str(doc.status)] = success
        for status in ERRORS:
            if doc.public and status == 403:
                continue
            responses[str(status)] = {"$ref": f"#/components/responses/E{status}"}
        operation["responses"] = responses
        if not doc.public:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(doc.path, {})[doc.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Volunteer organizer",
            "version": "1",
            "description": "The HTTP contract of the mobile app and the console (API.md).",
        },
        "paths": paths,
        "components": {
            "schemas": {**_schemas(used), **_answers(answered)},
            "responses": {
                f"E{status}": {
                    "description": text,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
                for status, text in ERRORS.items()
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def text() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(text(), end="")
