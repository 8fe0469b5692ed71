"""The machine-readable contract: generated from the code, committed, served."""

from __future__ import annotations

import json

from chalicelib.api import openapi


def test_the_committed_document_is_the_one_the_code_generates():
    assert openapi.SNAPSHOT.read_text() == openapi.text(), (
        "the API changed: regenerate with "
        "`.venv/bin/python -m chalicelib.api.openapi > chalicelib/api/openapi.json`"
    )


def test_the_document_is_valid_openapi_3_1_and_names_every_route(chalice_app):
    from openapi_spec_validator import validate

    document = json.loads(openapi.SNAPSHOT.read_text())
    validate(document)
    assert document["openapi"].startswith("3.1")
    routes = {
        (method.lower(), path) for path, methods in chalice_app.routes.items() for method in methods
    }
    documented = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert documented == routes


def test_request_bodies_carry_their_schemas_and_errors_their_shape():
    document = json.loads(openapi.SNAPSHOT.read_text())
    report = document["paths"]["/campaigns/{cid}/actions/{aid}/reports"]["post"]
    ref = report["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"contact_id", "list_row_id", "result"} <= set(schema["properties"])
    assert "201" in report["responses"] and "400" in report["responses"]
    error = document["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"Code", "Message", "Field", "Reason"}
    assert report["security"] == [{"bearer": []}]
    assert "security" not in document["paths"]["/auth/login"]["post"]


def test_anyone_can_read_the_document(api):
    reply = api.get("/openapi.json")
    assert reply.status == 200
    assert reply.body == json.loads(openapi.SNAPSHOT.read_text())


def test_every_answer_with_a_body_has_its_model():
    document = json.loads(openapi.SNAPSHOT.read_text())
    untyped = [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for status, answer in operation["responses"].items()
        if status.startswith("2")
        and "content" in answer
        and not answer["content"]["application/json"]["schema"]
    ]
    assert untyped == ["GET /openapi.json"]  # the document itself
