"""The contract fuzzed: schemathesis generates requests for every operation of
`/openapi.json` and sends each to the running local stack as several principals (no one,
a volunteer, an admin without MFA, an admin with it). No answer may be a 5xx, and every
answer must fit the document: a documented status, JSON where JSON is promised, the
error shape where an error is answered."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from chalicelib.api.openapi import SNAPSHOT
from tests.helpers import Api, admin_with_mfa, http_transport, sign_in, sign_up, volunteer

schema = schemathesis.openapi.from_dict(json.loads(SNAPSHOT.read_text()))

# what would end the caller's own session: sent without one only
ENDS_THE_SESSION = {("POST", "/auth/logout")}
# Left out: "a schema-valid request is accepted". A well-formed but wrong value (a code
# that is not the one sent, a phone number that does not parse) is a 400 naming the field,
# as API.md says; a JSON schema cannot tell those apart from good ones.
EXCLUDED = [positive_data_acceptance]
EXAMPLES = 8
SEEN: dict[str, set[str] | int] = {"operations": set(), "cases": 0, "calls": 0}


@pytest.fixture(scope="module", autouse=True)
def summary() -> Any:
    """What the fuzzing covered, for whoever reads the run: .cache/schemathesis.json."""
    from pathlib import Path

    yield
    operations = SEEN["operations"]
    assert isinstance(operations, set)
    out = Path(__file__).resolve().parents[2] / ".cache" / "schemathesis.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps({"operations": len(operations), "cases": SEEN["cases"], "calls": SEEN["calls"]})
    )


@pytest.fixture(scope="module")
def principals(local_stack: Any) -> dict[str, str | None]:
    api = Api(http_transport(local_stack.base_url))
    return {
        "anonymous": None,
        "volunteer": volunteer(api, "fuzz-vol").token,
        "admin_without_mfa": sign_in(api, sign_up(api, "fuzz-nomfa")).token,
        "admin": admin_with_mfa(api, "fuzz-admin").token,
    }


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_operation_answers_a_5xx_or_off_its_contract(
    case: Any, local_stack: Any, principals: dict[str, str | None]
) -> None:
    operations = SEEN["operations"]
    assert isinstance(operations, set)
    operations.add(case.operation.label)
    SEEN["cases"] = int(SEEN["cases"]) + 1  # type: ignore[call-overload]
    for token in principals.values():
        if token is not None and (case.method.upper(), case.path) in ENDS_THE_SESSION:
            continue
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        SEEN["calls"] = int(SEEN["calls"]) + 1  # type: ignore[call-overload]
        case.call_and_validate(
            base_url=local_stack.base_url, headers=headers, excluded_checks=EXCLUDED, timeout=30
        )
