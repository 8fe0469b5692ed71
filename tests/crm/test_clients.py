"""The CRM clients against the fake VAN, PDI and Salsa servers (tests/fakes/), over real
sockets: happy paths, retries, credential rejection, the allow-list, paging, redaction."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.crm.endpoints import Endpoint
from chalicelib.crm.errors import (
    CredentialsRejected,
    CrmError,
    EndpointNotAllowed,
    OutcomeUnknown,
    PermanentCrmError,
    PersonNotFound,
    RateLimited,
    TransientCrmError,
)
from chalicelib.crm.http import HttpCore
from chalicelib.crm.pdi import PdiClient, make_flag
from chalicelib.crm.retries import RetryPolicy, Timeouts, parse_retry_after
from chalicelib.crm.salsa import SalsaClient
from chalicelib.crm.van import VanClient
from tests.fakes.base import FakeCrmServer
from tests.fakes.pdi import PDI_ACQUISITIONS, PDI_FLAGS, PDI_QUESTIONS, FakePdi
from tests.fakes.salsa import FakeSalsa
from tests.fakes.van import FakeVan

READ_TIMEOUT = 0.3
TIMEOUTS = Timeouts(connect=1.0, read=READ_TIMEOUT)
RETRY = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=8.0, max_total_sleep=30.0)
JITTER = 0.5  # the injected random source: full jitter gives half of each backoff ceiling


class Sleeps(list[float]):
    """The injected sleep: records instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def _options(sleeps: Sleeps, **extra: Any) -> dict[str, Any]:
    return {
        "timeouts": TIMEOUTS,
        "retry": RETRY,
        "sleep": sleeps,
        "rand": lambda: JITTER,
        **extra,
    }


@pytest.fixture
def van(van_fake: FakeVan, sleeps: Sleeps) -> Iterator[VanClient]:
    with VanClient(van_fake.url, van_fake.credentials, **_options(sleeps)) as client:
        yield client


@pytest.fixture
def pdi(pdi_fake: FakePdi, sleeps: Sleeps) -> Iterator[PdiClient]:
    with PdiClient(pdi_fake.url, pdi_fake.credentials, **_options(sleeps)) as client:
        yield client


@pytest.fixture
def salsa(salsa_fake: FakeSalsa, sleeps: Sleeps) -> Iterator[SalsaClient]:
    with SalsaClient(salsa_fake.url, salsa_fake.credentials, **_options(sleeps)) as client:
        yield client


# -- the same behaviour for every provider ------------------------------------------------------


@dataclass
class Crm:
    name: str
    fake: FakeCrmServer
    client: Any
    read_path: str  # regex of the endpoint `read()` calls
    read: Callable[[], bool]  # an idempotent read of a known person: True
    secrets: list[str]


def _secrets(name: str, fake: Any) -> list[str]:
    if name == "van":
        return [fake.api_key, f"{fake.api_key}|{fake.db_mode}"]
    if name == "pdi":
        return [fake.password, fake.api_token]
    return [fake.api_token]


def _build(name: str, sleeps: Sleeps, **extra: Any) -> tuple[FakeCrmServer, Any, Crm]:
    fake: Any
    if name == "van":
        fake = FakeVan().start()
        client: Any = VanClient(fake.url, fake.credentials, **_options(sleeps, **extra))
        setup = Crm(name, fake, client, r"/people/\d+", lambda: client.person_exists(1001), [])
    elif name == "pdi":
        fake = FakePdi().start()
        client = PdiClient(fake.url, fake.credentials, **_options(sleeps, **extra))
        setup = Crm(name, fake, client, r"/contacts/\w+", lambda: client.person_exists("2001"), [])
    else:
        fake = FakeSalsa().start()
        client = SalsaClient(fake.url, fake.credentials, **_options(sleeps, **extra))
        known = next(iter(fake.people))
        setup = Crm(
            name, fake, client, r"/supporters/search", lambda: client.person_exists(known), []
        )
    setup.secrets = _secrets(name, fake)
    return fake, client, setup


@pytest.fixture(params=["van", "pdi", "salsa"])
def crm(request: pytest.FixtureRequest, sleeps: Sleeps) -> Iterator[Crm]:
    fake, client, setup = _build(request.param, sleeps)
    try:
        yield setup
        fake.assert_no_forbidden_calls()
    finally:
        client.close()
        fake.stop()


def _assert_no_secret(crm: Crm, *texts: str) -> None:
    for text in texts:
        for secret in crm.secrets:
            assert secret not in text, f"a {crm.name} credential leaked into {text!r}"


def test_happy_read(crm: Crm) -> None:
    assert crm.read() is True
    assert [c.status for c in crm.fake.calls_to(path=crm.read_path)] == [200]


def test_retry_after_is_honoured(crm: Crm, sleeps: Sleeps) -> None:
    crm.fake.fail_next(429, path=crm.read_path, retry_after=3)
    assert crm.read() is True
    assert sleeps == [3.0]
    assert [c.status for c in crm.fake.calls_to(path=crm.read_path)] == [429, 200]


def test_429_without_retry_after_backs_off_with_full_jitter(crm: Crm, sleeps: Sleeps) -> None:
    crm.fake.fail_next(429, path=crm.read_path, times=3)
    assert crm.read() is True
    # ceilings 0.5, 1, 2 (base 0.5 doubling), times the injected random 0.5
    assert sleeps == [0.25, 0.5, 1.0]


def test_500_then_success(crm: Crm, sleeps: Sleeps) -> None:
    crm.fake.fail_next(500, path=crm.read_path)
    assert crm.read() is True
    assert sleeps == [0.25]
    assert [c.status for c in crm.fake.calls_to(path=crm.read_path)] == [500, 200]


def test_timeout_then_success(crm: Crm, sleeps: Sleeps) -> None:
    crm.fake.slow_next(READ_TIMEOUT * 5, path=crm.read_path)
    assert crm.read() is True
    assert sleeps == [0.25]
    assert len(crm.fake.calls_to(path=crm.read_path)) == 2


def test_rate_limited_when_retries_run_out(crm: Crm, sleeps: Sleeps) -> None:
    crm.fake.fail_next(429, path=crm.read_path, times=10, retry_after=2)
    with pytest.raises(RateLimited) as caught:
        crm.read()
    assert caught.value.retry_after == 2.0
    assert caught.value.status == 429
    assert caught.value.retryable
    assert sleeps == [2.0, 2.0, 2.0]
    assert len(crm.fake.calls_to(path=crm.read_path)) == RETRY.max_attempts


def test_transient_error_when_5xx_outlasts_the_retries(crm: Crm, sleeps: Sleeps) -> None:
    crm.fake.fail_next(503, path=crm.read_path, times=10)
    with pytest.raises(TransientCrmError) as caught:
        crm.read()
    assert caught.value.status == 503
    assert len(crm.fake.calls_to(path=crm.read_path)) == RETRY.max_attempts
    assert len(sleeps) == RETRY.max_attempts - 1


def test_timeouts_outlasting_the_retries(crm: Crm, sleeps: Sleeps) -> None:
    small = RetryPolicy(max_attempts=2, base_delay=0.5)
    crm.client.core.retry = small
    crm.fake.slow_next(READ_TIMEOUT * 5, path=crm.read_path, times=2)
    with pytest.raises(TransientCrmError, match="timed out"):
        crm.read()
    assert sleeps == [0.25]


def test_retry_after_beyond_the_sleep_budget_gives_up_at_once(crm: Crm, sleeps: Sleeps) -> None:
    crm.fake.fail_next(429, path=crm.read_path, retry_after=120)
    with pytest.raises(RateLimited) as caught:
        crm.read()
    assert caught.value.retry_after == 120.0
    assert sleeps == []
    assert len(crm.fake.calls_to(path=crm.read_path)) == 1


def test_total_sleep_is_bounded(crm: Crm, sleeps: Sleeps) -> None:
    crm.client.core.retry = RetryPolicy(max_attempts=50, max_total_sleep=5.0)
    crm.fake.fail_next(429, path=crm.read_path, times=50, retry_after=2)
    with pytest.raises(RateLimited):
        crm.read()
    assert sleeps == [2.0, 2.0]
    assert len(crm.fake.calls_to(path=crm.read_path)) == 3


def test_client_errors_are_not_retried(crm: Crm, sleeps: Sleeps) -> None:
    crm.fake.fail_next(400, path=crm.read_path)
    with pytest.raises(PermanentCrmError) as caught:
        crm.read()
    assert caught.value.status == 400
    assert sleeps == []


def test_connection_refused_is_transient(sleeps: Sleeps) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = VanClient(
        f"http://127.0.0.1:{port}/v4",
        {"application_name": "a", "api_key": "van-secret-zz", "db_mode": 1},
        **_options(sleeps),
    )
    with pytest.raises(TransientCrmError, match="connection failed") as caught:
        client.check_credentials()
    assert len(sleeps) == RETRY.max_attempts - 1
    assert "van-secret-zz" not in str(caught.value)


def test_credentials_rejected_with_the_providers_reason(crm: Crm) -> None:
    crm.fake.reject_credentials("Key revoked by the committee admin")
    with pytest.raises(CredentialsRejected) as caught:
        crm.client.check_credentials()
    err = caught.value
    assert err.provider == crm.name
    assert err.status == 401
    assert "Key revoked by the committee admin" in str(err)
    _assert_no_secret(crm, str(err), repr(err), err.message, *map(str, err.args))


def test_a_reason_echoing_the_secret_is_redacted(crm: Crm) -> None:
    crm.fake.reject_credentials(f"bad credential {crm.secrets[-1]} for this account")
    with pytest.raises(CredentialsRejected) as caught:
        crm.client.check_credentials()
    assert "bad credential *** for this account" in str(caught.value)
    _assert_no_secret(crm, str(caught.value), repr(caught.value))


def test_wrong_credentials_are_rejected(crm: Crm, sleeps: Sleeps) -> None:
    wrong = dict(crm.fake.credentials)
    key = {"van": "api_key", "pdi": "password", "salsa": "api_token"}[crm.name]
    wrong[key] = "definitely-not-it"
    other = type(crm.client)(crm.fake.url, wrong, **_options(sleeps))
    with pytest.raises(CredentialsRejected):
        other.check_credentials()
    other.close()
    assert sleeps == []


def test_check_credentials_succeeds(crm: Crm) -> None:
    crm.client.check_credentials()
    assert all(c.status == 200 for c in crm.fake.calls)


def test_reprs_never_show_secrets(crm: Crm) -> None:
    crm.read()  # PDI: signed in, holds a token
    core = crm.client.core
    texts = [
        repr(crm.client),
        str(crm.client),
        repr(core),
        repr(core._auth),
        repr(crm.client._credentials),
        str(crm.client._credentials),
    ]
    if crm.name == "pdi":
        texts.append(repr(crm.client))
        token = crm.client._token
        assert token and all(token not in t for t in texts)
    _assert_no_secret(crm, *texts)
    assert "***" in repr(crm.client._credentials)


def test_retry_logs_carry_no_secret(crm: Crm, caplog: pytest.LogCaptureFixture) -> None:
    crm.fake.fail_next(500, path=crm.read_path)
    with caplog.at_level("WARNING"):
        crm.read()
    retries = [r for r in caplog.records if r.getMessage() == "crm retry"]
    assert len(retries) == 1
    assert retries[0].__dict__["provider"] == crm.name
    _assert_no_secret(crm, *(repr(r.__dict__) for r in caplog.records))


def test_recorded_headers_hold_no_secret(crm: Crm) -> None:
    crm.client.check_credentials()
    crm.read()
    for call in crm.fake.calls:
        _assert_no_secret(crm, repr(call.headers))


# -- the allow-list -----------------------------------------------------------------------------

NEVER_CALL = [
    ("van", "POST", "/people/findOrCreate", {}),
    ("van", "POST", "/people/{vanId}", {"vanId": 1001}),
    ("van", "PUT", "/people/{vanId}/mergeInto", {"vanId": 1001}),
    ("van", "DELETE", "/people/{vanId}", {"vanId": 1001}),
    ("van", "POST", "/bulkImportJobs", {}),
    ("pdi", "POST", "/contacts", {}),
    ("pdi", "PUT", "/contacts/{id}", {"id": "2001"}),
    ("pdi", "POST", "/contacts/{id}/phones", {"id": "2001"}),
    ("pdi", "POST", "/contacts/{id}/emails", {"id": "2001"}),
    ("salsa", "PUT", "/segments", {}),
    ("salsa", "POST", "/supporters/merge", {}),
    ("salsa", "DELETE", "/supporters", {}),
]

# Written independently of chalicelib.crm.endpoints.NEVER_CALL: method and a regex on the template.
PERSON_CREATING = [
    ("POST", r"/people/findOrCreate"),
    ("POST", r"/people/[^/]+"),
    ("PUT", r"/people/[^/]+/mergeInto"),
    ("DELETE", r"/people/[^/]+"),
    ("POST", r"/bulkImport.*"),
    ("POST", r"/contacts"),
    ("PUT", r"/contacts/[^/]+"),
    ("DELETE", r"/contacts/[^/]+"),
    ("POST", r"/contacts/[^/]+/(phones|emails|addresses)"),
    ("PUT", r"/segments"),
    ("POST", r"/supporters/merge"),
    ("DELETE", r"/supporters"),
]


@pytest.mark.parametrize(("provider", "method", "template", "params"), NEVER_CALL)
def test_never_call_endpoints_are_refused_before_any_request(
    provider: str, method: str, template: str, params: dict[str, Any], sleeps: Sleeps
) -> None:
    fake, client, _ = _build(provider, sleeps)
    try:
        with pytest.raises(EndpointNotAllowed):
            client.core.request(method, template, path_params=params, body={"payload": {}})
        assert fake.calls == []
    finally:
        client.close()
        fake.stop()


@pytest.mark.parametrize("client_class", [VanClient, PdiClient, SalsaClient])
def test_no_allowed_endpoint_can_create_a_person(client_class: Any) -> None:
    assert client_class.ENDPOINTS, "a client declares its allow-list"
    for endpoint in client_class.ENDPOINTS:
        for method, pattern in PERSON_CREATING:
            assert not (endpoint.method == method and re.fullmatch(pattern, endpoint.path)), (
                f"{client_class.__name__} allows {endpoint}"
            )
        if (endpoint.method, endpoint.path) == ("PUT", "/supporters"):
            assert endpoint.guard is not None
            assert endpoint.guard({"payload": {"supporters": [{"firstName": "New"}]}})
            assert endpoint.guard({"payload": {"supporters": [{"supporterId": ""}]}})
            assert endpoint.guard({"payload": {"supporters": []}})
            assert endpoint.guard(None)
            assert endpoint.guard({"payload": {"supporters": [{"supporterId": "abc"}]}}) is None


@pytest.mark.parametrize(
    "endpoint",
    [
        Endpoint("POST", "/people/{anything}"),
        Endpoint("POST", "/contacts"),
        Endpoint("DELETE", "/supporters"),
        pytest.param(Endpoint("PUT", "/supporters"), id="PUT /supporters unguarded"),
    ],
    ids=str,
)
def test_the_core_cannot_be_built_with_a_person_creating_endpoint(endpoint: Endpoint) -> None:
    with pytest.raises(EndpointNotAllowed):
        HttpCore(provider="x", base_url="https://crm.example.org", endpoints=[endpoint])


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("../findOrCreate", id="up-to-findOrCreate"),
        pytest.param("1001/mergeInto", id="on-to-mergeInto"),
        pytest.param("", id="empty"),
        pytest.param("..", id="up"),
    ],
)
def test_path_parameters_cannot_reach_another_endpoint(
    van: VanClient, van_fake: FakeVan, pdi: PdiClient, pdi_fake: FakePdi, bad: str
) -> None:
    with pytest.raises((EndpointNotAllowed, ValueError)):
        van.person_exists(bad)
    with pytest.raises(EndpointNotAllowed):
        van.core.request("GET", "/people/{vanId}", path_params={"vanId": bad})
    with pytest.raises((EndpointNotAllowed, ValueError)):
        pdi.person_exists(bad)
    assert van_fake.calls == []
    assert pdi_fake.calls == []


def test_a_missing_or_concrete_path_parameter_is_refused(
    van: VanClient, van_fake: FakeVan, pdi_fake: FakePdi
) -> None:
    with pytest.raises(EndpointNotAllowed):
        van.core.request("GET", "/people/{vanId}")  # a missing parameter
    with pytest.raises(EndpointNotAllowed):
        van.core.request("GET", "/people/1001")  # a concrete path is not a template
    assert van_fake.calls == []
    assert pdi_fake.calls == []


VAN_CREDENTIALS = {"application_name": "a", "api_key": "k", "db_mode": 1}


@pytest.mark.parametrize(
    "url",
    ["http://api.securevan.com/v4", "https://u:p@api.securevan.com/v4", "ftp://x"],
    ids=["plain-http", "credentials-in-url", "not-http"],
)
def test_base_url_must_be_https_and_carry_no_credentials(url: str) -> None:
    with pytest.raises(ValueError):
        VanClient(url, VAN_CREDENTIALS)


def test_https_or_a_loopback_base_url_is_taken() -> None:
    creds = VAN_CREDENTIALS
    VanClient("https://api.securevan.com/v4", creds).close()
    VanClient("http://127.0.0.1:9/v4", creds).close()


def test_credentials_are_validated_without_echoing_them() -> None:
    with pytest.raises(ValueError) as caught:
        VanClient("https://x.org", {"application_name": "a", "api_key": "sekrit", "db_mode": 7})
    assert "sekrit" not in str(caught.value)
    with pytest.raises(ValueError):
        PdiClient("https://x.org", {"username": "u", "password": "p"})
    with pytest.raises(ValueError):
        SalsaClient("https://x.org", {"api_token": ""})
    from chalicelib.logic import providers

    with pytest.raises(KeyError):
        providers.get("nationbuilder")


# -- NGP VAN ------------------------------------------------------------------------------------


def test_van_check_credentials_uses_basic_auth(van: VanClient, van_fake: FakeVan) -> None:
    van.check_credentials()
    (call,) = van_fake.calls
    assert (call.method, call.path, call.status) == ("POST", "/echoes", 200)
    assert call.headers["Authorization"] == "Basic <redacted>"
    assert isinstance(call.body["message"], str)


def test_van_wrong_db_mode_is_rejected(van_fake: FakeVan, sleeps: Sleeps) -> None:
    creds = {**van_fake.credentials, "db_mode": 0}
    client = VanClient(van_fake.url, creds, **_options(sleeps))
    with pytest.raises(CredentialsRejected, match="Authorization has been denied"):
        client.check_credentials()
    client.close()


def test_van_catalog_follows_every_page(van: VanClient, van_fake: FakeVan) -> None:
    catalog = van.catalog()
    assert [c["id"] for c in catalog["activist_codes"]] == [
        4482459,
        4482460,
        4482461,
        4482462,
        4482463,
    ]  # five active codes (the archived one is filtered out) over three pages of two
    assert len(van_fake.calls_to("GET", "/activistCodes")) == 3
    assert len(van_fake.calls_to("GET", "/surveyQuestions")) == 2
    first, *rest = van_fake.calls_to("GET", "/activistCodes")
    assert first.query == {"statuses": "Active", "$top": "200"}
    assert [c.query["$skip"] for c in rest] == ["2", "4"]
    assert catalog["survey_questions"][0] == {
        "id": 378552,
        "name": "Measure A",
        "responses": [
            {"id": 1555791, "name": "Yes"},
            {"id": 1555792, "name": "No"},
            {"id": 1555793, "name": "Undecided"},
        ],
    }
    assert len(catalog["survey_questions"]) == 3
    assert {"id": 4, "name": "Not Home"} in catalog["result_codes"]
    assert {"id": 37, "name": "SMS Text", "channel": "Text"} in catalog["contact_types"]


def test_van_refuses_a_next_page_link_to_another_host(van: VanClient, van_fake: FakeVan) -> None:
    van_fake.next_link_origin = "http://127.0.0.2:9"
    with pytest.raises(PermanentCrmError, match="next-page link"):
        van.catalog()
    assert len(van_fake.calls_to("GET", "/activistCodes")) == 1


@pytest.mark.parametrize(
    ("link", "followed"),
    [
        ("https://api.securevan.com/v4/activistCodes?$top=200&$skip=200", True),
        ("https://api.securevan.com:443/v4/activistCodes?$top=200&$skip=200", True),  # VAN's
        ("https://API.securevan.com/v4/activistCodes?$skip=200", True),
        ("/v4/activistCodes?$skip=200", True),
        ("https://api.securevan.com:8443/v4/activistCodes?$skip=200", False),
        ("http://api.securevan.com/v4/activistCodes?$skip=200", False),
        ("https://api.securevan.com:80/v4/activistCodes?$skip=200", False),
        ("https://evil.example/v4/activistCodes?$skip=200", False),
        ("https://user@api.securevan.com/v4/activistCodes?$skip=200", False),
        ("https://api.securevan.com:x/v4/activistCodes?$skip=200", False),
        ("https://api.securevan.com/v4/surveyQuestions?$skip=200", False),
    ],
)
def test_a_next_page_link_is_followed_only_to_the_same_origin_and_endpoint(
    link: str, followed: bool
) -> None:
    """Same scheme, host and effective port: VAN's links name port 443 outright."""
    core = HttpCore(
        provider="van",
        base_url="https://api.securevan.com/v4",
        endpoints=[Endpoint("GET", "/activistCodes")],
    )
    if followed:
        assert core.params_from_link(link, "/activistCodes")["$skip"] == "200"
    else:
        with pytest.raises(PermanentCrmError, match="next-page link"):
            core.params_from_link(link, "/activistCodes")


def test_van_person_exists(van: VanClient, van_fake: FakeVan) -> None:
    assert van.person_exists(1001) is True
    assert van.person_exists("1002") is True
    assert van.person_exists(999999) is False
    van_fake.remove_person(1001)
    assert van.person_exists(1001) is False


def test_van_canvass_response_with_survey_answers_and_activist_codes(
    van: VanClient, van_fake: FakeVan
) -> None:
    van.post_canvass_response(
        1001,
        date="2026-11-01",
        contact_type_id=2,
        survey_responses=[(378552, 1555791)],
        activist_codes=[4482459],
    )
    (call,) = van_fake.calls
    assert (call.method, call.path, call.status) == ("POST", "/people/1001/canvassResponses", 204)
    assert call.body == {
        "canvassContext": {
            "contactTypeId": 2,
            "inputTypeId": 11,
            "dateCanvassed": "2026-11-01",
            "omitActivistCodeContactHistory": True,
        },
        "resultCodeId": None,
        "responses": [
            {"type": "ActivistCode", "activistCodeId": 4482459, "action": "Apply"},
            {"type": "SurveyResponse", "surveyQuestionId": 378552, "surveyResponseId": 1555791},
        ],
    }
    assert van_fake.canvass_responses == [(1001, call.body)]


def test_van_canvass_response_with_a_result_code(van: VanClient, van_fake: FakeVan) -> None:
    van.post_canvass_response(
        1002, date=datetime(2026, 11, 1, 18, 30, tzinfo=UTC), contact_type_id=2, result_code_id=4
    )
    (call,) = van_fake.calls
    assert call.body["resultCodeId"] == 4
    assert call.body["responses"] is None
    assert call.body["canvassContext"]["dateCanvassed"] == "2026-11-01"


def test_van_refuses_result_code_and_responses_together(van: VanClient, van_fake: FakeVan) -> None:
    with pytest.raises(ValueError, match="never both"):
        van.post_canvass_response(
            1001,
            date="2026-11-01",
            contact_type_id=2,
            result_code_id=4,
            survey_responses=[(378552, 1555791)],
        )
    with pytest.raises(ValueError):
        van.post_canvass_response(1001, date="2026-11-01", contact_type_id=2)
    assert van_fake.calls == []


def test_the_fake_van_answers_both_with_vans_error_shape(van: VanClient, van_fake: FakeVan) -> None:
    body = {
        "canvassContext": {"contactTypeId": 2, "inputTypeId": 11, "dateCanvassed": "2026-11-01"},
        "resultCodeId": 4,
        "responses": [{"type": "ActivistCode", "activistCodeId": 4482459, "action": "Apply"}],
    }
    with pytest.raises(PermanentCrmError, match="cannot both be specified") as caught:
        van.core.request(
            "POST", "/people/{vanId}/canvassResponses", path_params={"vanId": 1001}, body=body
        )
    assert caught.value.status == 400
    assert van_fake.canvass_responses == []


def test_van_unknown_person_on_write_back(van: VanClient) -> None:
    with pytest.raises(PersonNotFound) as caught:
        van.post_canvass_response(424242, date="2026-11-01", contact_type_id=2, result_code_id=4)
    assert caught.value.status == 404
    assert caught.value.external_id == "424242"


def test_van_validation_error_carries_vans_text(van: VanClient) -> None:
    with pytest.raises(PermanentCrmError, match="surveyResponseId") as caught:
        van.post_canvass_response(
            1001, date="2026-11-01", contact_type_id=2, survey_responses=[(378552, 1555801)]
        )
    assert caught.value.status == 400


def test_van_phone_contact_types_need_a_phone(van: VanClient, van_fake: FakeVan) -> None:
    with pytest.raises(PermanentCrmError, match="phone"):
        van.post_canvass_response(1001, date="2026-11-01", contact_type_id=37, result_code_id=4)
    van.post_canvass_response(
        1001, date="2026-11-01", contact_type_id=37, result_code_id=4, phone="+1 (415) 555-0100"
    )
    assert van_fake.canvass_responses[-1][1]["canvassContext"]["phone"] == {
        "dialingPrefix": "1",
        "phoneNumber": "4155550100",
    }


# -- PDI ----------------------------------------------------------------------------------------


def test_pdi_signs_in_and_uses_the_bearer_token(pdi: PdiClient, pdi_fake: FakePdi) -> None:
    pdi.check_credentials()
    assert pdi.person_exists("2001") is True
    assert pdi.person_exists("2002") is True
    sign_in, *reads = pdi_fake.calls
    assert (sign_in.method, sign_in.path, sign_in.status) == ("POST", "/sessions", 200)
    assert sign_in.body == {
        "Username": pdi_fake.username,
        "Password": pdi_fake.password,
        "ApiToken": pdi_fake.api_token,
    }
    assert "Authorization" not in sign_in.headers
    assert [c.headers["Authorization"] for c in reads] == ["Bearer <redacted>"] * 2
    assert pdi_fake.sign_ins == 1


def test_pdi_person_exists(pdi: PdiClient) -> None:
    assert pdi.person_exists("2003") is True
    assert pdi.person_exists("777") is False


def test_pdi_signs_in_again_after_a_401(pdi: PdiClient, pdi_fake: FakePdi) -> None:
    assert pdi.person_exists("2001")
    pdi_fake.expire_tokens()
    assert pdi.person_exists("2001")
    assert [(c.method, c.path, c.status) for c in pdi_fake.calls] == [
        ("POST", "/sessions", 200),
        ("GET", "/contacts/2001", 200),
        ("GET", "/contacts/2001", 401),
        ("POST", "/sessions", 200),
        ("GET", "/contacts/2001", 200),
    ]


def test_pdi_a_second_401_is_a_rejection(pdi: PdiClient, pdi_fake: FakePdi) -> None:
    pdi_fake.fail_next(401, path="/flag_ids", times=2)
    with pytest.raises(CredentialsRejected):
        pdi.catalog()
    assert pdi_fake.sign_ins == 2


def test_pdi_signs_in_again_before_the_token_expires(pdi_fake: FakePdi, sleeps: Sleeps) -> None:
    now = [datetime.now(UTC)]
    client = PdiClient(pdi_fake.url, pdi_fake.credentials, **_options(sleeps, clock=lambda: now[0]))
    assert client.person_exists("2001")
    now[0] += timedelta(seconds=pdi_fake.token_ttl - 30)  # within the refresh margin
    assert client.person_exists("2001")
    assert pdi_fake.sign_ins == 2
    assert all(c.status == 200 for c in pdi_fake.calls)  # never a 401
    client.close()


def test_pdi_rejected_sign_in(pdi: PdiClient, pdi_fake: FakePdi) -> None:
    pdi_fake.reject_credentials()
    with pytest.raises(CredentialsRejected, match="Invalid username, password or API token"):
        pdi.person_exists("2001")
    assert [c.path for c in pdi_fake.calls] == ["/sessions"]


def test_pdi_catalog_follows_every_page(pdi: PdiClient, pdi_fake: FakePdi) -> None:
    catalog = pdi.catalog()
    codes = ["SUP", "MAYBE", "NO", "NAH", "REF", "VOL"]
    assert [t["id"] for t in catalog["tags"]] == [PDI_FLAGS[c] for c in codes]
    assert catalog["tags"][3] == {"id": PDI_FLAGS["NAH"], "name": "Not at home", "code": "NAH"}
    assert catalog["result_codes"] == catalog["tags"]
    assert catalog["survey_questions"][0] == {
        "id": PDI_QUESTIONS["measure"],
        "name": "Will you vote for Measure A?",
        "responses": [
            {"id": PDI_FLAGS["SUP"], "name": "Yes"},
            {"id": PDI_FLAGS["NO"], "name": "No"},
        ],
    }
    assert len(catalog["survey_questions"]) == 3
    assert [a["id"] for a in catalog["acquisition_types"]] == list(PDI_ACQUISITIONS.values())
    assert all(len(a["id"]) == 24 and a["id"].endswith("==") for a in catalog["acquisition_types"])
    pages = pdi_fake.calls_to("GET", "/flag_ids")
    assert [c.query for c in pages] == [
        {"limit": "2000"},
        {"limit": "2000", "cursor": "2"},
        {"limit": "2000", "cursor": "3"},
    ]


def test_pdi_posts_flags_as_one_array(pdi: PdiClient, pdi_fake: FakePdi) -> None:
    flags = [
        make_flag(
            "2001",
            PDI_FLAGS["SUP"],
            date="2026-11-01",
            acquisition_type_id=PDI_ACQUISITIONS["Phone"],
            question_id=PDI_QUESTIONS["measure"],
        ),
        make_flag(
            "2002",
            PDI_FLAGS["NAH"],
            date="2026-11-01",
            acquisition_type_id=PDI_ACQUISITIONS["Walk"],
        ),
        make_flag(
            "2003",
            PDI_FLAGS["VOL"],
            date="2026-11-02",
            acquisition_type_id=PDI_ACQUISITIONS["Walk"],
            contact_id="c-9",
        ),
    ]
    assert pdi.post_flags(flags) == 3
    (call,) = pdi_fake.calls_to("POST", "/flags")
    assert call.body == flags
    assert call.body[0] == {
        "pdiId": "2001",
        "flagEntryDate": "2026-11-01T00:00:00",  # a date and time, as PDI wants
        "acquisitionTypeId": PDI_ACQUISITIONS["Phone"],
        "flagId": PDI_FLAGS["SUP"],
        "questionId": PDI_QUESTIONS["measure"],
    }
    assert len(pdi_fake.flags) == 3


def test_pdi_flag_batches(pdi: PdiClient, pdi_fake: FakePdi) -> None:
    nah, phone = PDI_FLAGS["NAH"], PDI_ACQUISITIONS["Phone"]
    flags = [make_flag("2001", nah, date="2026-11-01", acquisition_type_id=phone)] * 5
    pdi.post_flags(flags, batch_size=2)
    assert [len(c.body) for c in pdi_fake.calls_to("POST", "/flags")] == [2, 2, 1]


def test_pdi_refuses_a_bare_flag_entry_date_and_a_made_up_acquisition_type(
    pdi: PdiClient,
) -> None:
    """As the real PDI does (field code's authors): a date without a time, and an id that
    is not one of its own opaque ones, are refused."""
    flag = make_flag(
        "2001", PDI_FLAGS["NAH"], date="2026-11-01", acquisition_type_id=PDI_ACQUISITIONS["Walk"]
    )
    with pytest.raises(PermanentCrmError, match="flagEntryDate is not a date and time"):
        pdi.post_flags([{**flag, "flagEntryDate": "2026-11-01"}])
    with pytest.raises(PermanentCrmError, match="acquisitionTypeId is invalid"):
        pdi.post_flags([{**flag, "acquisitionTypeId": "1"}])
    assert pdi.post_flags([flag]) == 1


def test_pdi_refuses_malformed_flags_before_sending(pdi: PdiClient, pdi_fake: FakePdi) -> None:
    with pytest.raises(ValueError, match="pdiId"):
        pdi.post_flags([{"flagId": "101", "flagEntryDate": "2026-11-01", "acquisitionTypeId": "1"}])
    with pytest.raises(ValueError, match="unknown"):
        pdi.post_flags(
            [
                {
                    **make_flag(
                        "2001", PDI_FLAGS["SUP"], date="2026-11-01", acquisition_type_id="a"
                    ),
                    "firstName": "New",
                }
            ]
        )
    assert pdi_fake.calls == []


def test_pdi_validation_error_carries_pdis_message(pdi: PdiClient) -> None:
    with pytest.raises(PermanentCrmError, match="pdiId 9999 not found") as caught:
        pdi.post_flags(
            [
                make_flag(
                    "9999",
                    PDI_FLAGS["SUP"],
                    date="2026-11-01",
                    acquisition_type_id=PDI_ACQUISITIONS["Phone"],
                )
            ]
        )
    assert caught.value.status == 400


# -- Salsa --------------------------------------------------------------------------------------


def test_salsa_check_credentials_returns_the_metrics(
    salsa: SalsaClient, salsa_fake: FakeSalsa
) -> None:
    metrics = salsa.check_credentials()
    assert metrics["maxBatchSize"] == 20
    assert metrics["rateLimit"] == 300
    (call,) = salsa_fake.calls
    assert (call.method, call.path) == ("GET", "/metrics")
    assert call.headers["authToken"] == "<redacted>"


def test_salsa_person_exists(salsa: SalsaClient, salsa_fake: FakeSalsa) -> None:
    known = next(iter(salsa_fake.people))
    assert salsa.person_exists(known) is True
    assert salsa.person_exists("not-a-supporter") is False
    call = salsa_fake.calls[0]
    assert call.body["payload"] == {
        "identifiers": [known],
        "identifierType": "SUPPORTER_ID",
        "offset": 0,
        "count": 1,
    }
    assert call.body["header"]["refId"]


def test_salsa_catalog_follows_every_page(salsa: SalsaClient, salsa_fake: FakeSalsa) -> None:
    catalog = salsa.catalog()
    assert [t["id"] for t in catalog["tags"]] == [f"seg-000{i}" for i in range(1, 6)]
    assert catalog["tags"][0] == {"id": "seg-0001", "name": "Volunteers"}
    assert catalog["survey_questions"] == [] and catalog["result_codes"] == []
    pages = salsa_fake.calls_to("POST", "/segments/search")
    assert [c.body["payload"]["offset"] for c in pages] == [0, 2, 4]


def test_salsa_add_to_segment_in_batches_of_20(salsa: SalsaClient, salsa_fake: FakeSalsa) -> None:
    known = list(salsa_fake.people)
    unknown = [f"missing-{i}" for i in range(42)]
    results = salsa.add_to_segment("seg-0002", known + unknown)
    sizes = [len(c.body["payload"]["supporterIds"]) for c in salsa_fake.calls]
    assert sizes == [20, 20, 5]
    assert all(c.body["payload"]["segmentId"] == "seg-0002" for c in salsa_fake.calls)
    assert {results[s] for s in known} == {"ADDED"}
    assert {results[s] for s in unknown} == {"NOT_FOUND"}
    assert salsa_fake.segment_members["seg-0002"] == set(known)
    # already a member: goengage's segment results are ADDED, UPDATED, NOT_ALLOWED
    assert salsa.add_to_segment("seg-0002", known[:1]) == {known[0]: "UPDATED"}


def test_salsa_a_field_refused_inside_an_updated_supporter_is_an_error(
    salsa: SalsaClient, salsa_fake: FakeSalsa
) -> None:
    known = next(iter(salsa_fake.people))
    salsa_fake.refused_fields["cf-2"] = "not a valid date"
    values = [{"fieldId": "cf-1", "value": "Yes"}, {"fieldId": "cf-2", "value": "soon"}]
    with pytest.raises(PermanentCrmError, match="cf-2: not a valid date"):
        salsa.set_custom_fields(known, values)


def test_salsa_set_custom_fields(salsa: SalsaClient, salsa_fake: FakeSalsa) -> None:
    known = next(iter(salsa_fake.people))
    values = [{"fieldId": "cf-1", "name": "Measure A", "value": "Yes"}]
    assert salsa.set_custom_fields(known, values) == "UPDATED"
    (call,) = salsa_fake.calls
    assert (call.method, call.path) == ("PUT", "/supporters")
    assert call.body["payload"] == {
        "supporters": [{"supporterId": known, "customFieldValues": values}]
    }
    assert salsa_fake.custom_fields[known] == {"cf-1": "Yes"}
    with pytest.raises(PersonNotFound):
        salsa.set_custom_fields("not-a-supporter", values)


CUSTOM_VALUES = [{"fieldId": "cf-1", "value": "Yes"}]


@pytest.mark.parametrize("empty", ["", "   "], ids=["empty", "blank"])
def test_salsa_put_supporters_without_supporter_id_is_impossible(
    salsa: SalsaClient, salsa_fake: FakeSalsa, empty: str
) -> None:
    with pytest.raises(EndpointNotAllowed):
        salsa.set_custom_fields(empty, CUSTOM_VALUES)
    assert salsa_fake.calls == []


@pytest.mark.parametrize(
    "body",
    [
        None,
        {"payload": {"supporters": [{"firstName": "New", "customFieldValues": CUSTOM_VALUES}]}},
        {"payload": {"supporters": [{"supporterId": "abc"}, {"email": "new@example.org"}]}},
        {"payload": {"supporters": []}},
        {"payload": {"supporters": [{"supporterId": None}]}},
    ],
    ids=["no-body", "new-supporter", "one-without-id", "no-supporters", "null-id"],
)
def test_salsa_put_supporters_refuses_a_body_that_could_create_a_supporter(
    salsa: SalsaClient, salsa_fake: FakeSalsa, body: Any
) -> None:
    with pytest.raises(EndpointNotAllowed):
        salsa.core.request("PUT", "/supporters", body=body)
    assert salsa_fake.calls == []


def test_salsa_put_supporters_of_no_one_is_impossible(
    salsa: SalsaClient, salsa_fake: FakeSalsa
) -> None:
    with pytest.raises(EndpointNotAllowed):
        salsa._put_supporters([{"customFieldValues": CUSTOM_VALUES}])
    assert salsa_fake.calls == []


def test_salsa_throttle_inside_a_200_is_retried(
    salsa: SalsaClient, salsa_fake: FakeSalsa, sleeps: Sleeps
) -> None:
    salsa_fake.throttle_in_body_next()
    assert salsa.catalog()["tags"]
    assert sleeps == [0.25]
    first = salsa_fake.calls[0]
    assert first.status == 200


def test_salsa_persistent_throttle_inside_a_200_is_rate_limited(
    salsa: SalsaClient, salsa_fake: FakeSalsa, sleeps: Sleeps
) -> None:
    salsa_fake.throttle_in_body_next(times=10)
    with pytest.raises(RateLimited, match="Call rate has been exceeded") as caught:
        salsa.check_credentials()
    assert caught.value.status == 200
    assert len(salsa_fake.calls) == RETRY.max_attempts


def test_salsa_validation_error_is_permanent(salsa: SalsaClient) -> None:
    with pytest.raises(PermanentCrmError, match="segmentId"):
        salsa.add_to_segment("seg-9999", ["x"])


# -- the fakes' load controls, and the package's import cost ------------------------------------


def test_fake_rate_limit_answers_429_with_retry_after(van: VanClient, van_fake: FakeVan) -> None:
    van_fake.set_rate_limit(2, retry_after=1)
    van.person_exists(1001)
    van.person_exists(1001)
    with pytest.raises(RateLimited):
        van.core.retry = RetryPolicy(max_attempts=1)
        van.person_exists(1001)
    assert [c.status for c in van_fake.calls] == [200, 200, 429]
    van_fake.set_rate_limit(None)
    assert van.person_exists(1001)


def test_fake_response_delay(van: VanClient, van_fake: FakeVan) -> None:
    import time

    van_fake.set_delay(0.05)
    started = time.perf_counter()
    van.person_exists(1001)
    assert time.perf_counter() - started >= 0.05


def test_fake_records_and_refuses_person_creating_calls(van_fake: FakeVan) -> None:
    import requests

    answer = requests.post(
        f"{van_fake.url}/people/findOrCreate", json={"firstName": "X"}, timeout=5
    )
    assert answer.status_code == 418
    assert "FORBIDDEN" in answer.text
    (call,) = van_fake.forbidden_calls
    assert (call.method, call.path) == ("POST", "/people/findOrCreate")
    with pytest.raises(AssertionError):
        van_fake.assert_no_forbidden_calls()
    van_fake.clear_calls()


def test_parse_retry_after() -> None:
    now = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Sun, 01 Nov 2026 12:00:30 GMT", now=lambda: now) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_importing_the_package_does_not_import_requests() -> None:
    code = (
        "import sys, chalicelib.crm, chalicelib.crm.errors; "
        "assert 'requests' not in sys.modules, 'requests imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize(
    "cls",
    [CredentialsRejected, PersonNotFound, RateLimited, TransientCrmError],
    ids=lambda cls: cls.__name__,
)
def test_errors_are_crm_errors(cls: type[Exception]) -> None:
    assert issubclass(cls, CrmError)


def test_the_allow_list_error_is_not_a_crm_error() -> None:
    assert not issubclass(EndpointNotAllowed, CrmError)


# -- writes whose outcome is unknown are never repeated ------------------------------------------


def test_a_van_write_that_timed_out_after_sending_is_not_retried(
    van: VanClient, van_fake: FakeVan, sleeps: Sleeps
) -> None:
    van_fake.slow_next(READ_TIMEOUT * 5, path=r"/people/\d+/canvassResponses")
    with pytest.raises(OutcomeUnknown) as caught:
        van.post_canvass_response(1001, date="2026-11-01", contact_type_id=2, result_code_id=4)
    assert caught.value.retryable is False
    assert len(van_fake.calls_to("POST", r"/people/\d+/canvassResponses")) == 1
    assert sleeps == []


def test_a_pdi_flag_post_that_timed_out_after_sending_is_not_retried(
    pdi: PdiClient, pdi_fake: FakePdi, sleeps: Sleeps
) -> None:
    pdi_fake.slow_next(READ_TIMEOUT * 5, path=r"^/flags$")
    flag = make_flag(1001, 11, date="2026-11-01", acquisition_type_id=1)
    with pytest.raises(OutcomeUnknown):
        pdi.post_flags([flag])
    assert len(pdi_fake.calls_to("POST", r"^/flags$")) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_write_answered_with_a_5xx_is_never_sent_again_by_itself(
    van: VanClient, van_fake: FakeVan, sleeps: Sleeps, status: int
) -> None:
    """A 5xx does not prove the write did not land: sending it again could record the
    contact twice, so the caller is told the outcome is unknown."""
    van_fake.fail_next(status, times=10, path=r"/people/\d+/canvassResponses")
    with pytest.raises(OutcomeUnknown) as unknown:
        van.post_canvass_response(1001, date="2026-11-01", contact_type_id=2, result_code_id=4)
    assert unknown.value.status == status
    posts = [c for c in van_fake.calls if c.path.endswith("/canvassResponses")]
    assert len(posts) == 1 and sleeps == []
