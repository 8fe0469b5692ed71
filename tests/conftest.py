"""Fixtures: the embedded emulator (one per test session, reset for every test),
the app on it, and an API client through chalice's test client."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.stack import Emulator, apply, base_environment, provision
from tests.helpers import Api, chalice_transport
from tests.iam import Enforcer, camel


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    emu = Emulator.start()
    yield emu
    emu.stop()


@pytest.fixture(scope="session")
def enforcer() -> Iterator[Enforcer]:
    """IAM on the emulator (tests/iam.py): every AWS call the app makes from inside one of
    its functions is checked against that function's role in the deployment's template."""
    from chalicelib import aws

    found = Enforcer()
    original = aws._new_client

    def checked_client(service: str, **options: Any) -> Any:
        return found.attach(original(service, **options))

    aws._new_client = checked_client
    aws.reset()
    try:
        yield found
    finally:
        aws._new_client = original
        aws.reset()


@pytest.fixture(scope="session")
def merge_template() -> dict[str, Any]:
    from infra.template import build

    return build()


@pytest.fixture
def stack(
    emulator: Emulator,
    enforcer: Enforcer,
    merge_template: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, str]]:
    """A freshly provisioned, empty emulator, and the app's settings pointing at it.

    The app's calls from inside a function are held to that function's role: a call the
    role does not allow is refused as AWS would refuse it, and fails the test."""
    emulator.reset()
    env = base_environment(emulator.endpoint, stage="test")
    env["OUTBOX_PATH"] = str(tmp_path_factory.mktemp("mail") / "outbox.jsonl")
    env.update(provision(env))
    apply(env)
    enforcer.configure(merge_template, env)
    yield env
    denied = sorted({(c.function, c.action, c.resource) for c in enforcer.denied()})
    assert denied == [], "calls the deployment's roles would refuse"


@pytest.fixture
def outbox(stack: dict[str, str]) -> Any:
    """The e-mails the app sent during the test (the local stand-in for SES)."""
    import json
    from pathlib import Path

    def sent() -> list[dict[str, Any]]:
        path = Path(stack["OUTBOX_PATH"])
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    return sent


@pytest.fixture
def fakes(stack: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Fake VAN, PDI and Salsa servers, and the app pointed at them."""
    from chalicelib import config
    from tests.fakes.pdi import FakePdi
    from tests.fakes.salsa import FakeSalsa
    from tests.fakes.van import FakeVan

    with FakeVan() as van, FakePdi() as pdi, FakeSalsa() as salsa:
        monkeypatch.setenv("VAN_API_URL", van.url)
        monkeypatch.setenv("PDI_API_URL", pdi.url)
        monkeypatch.setenv("SALSA_API_URL", salsa.url)
        # well above the fakes' set delays (at most 0.5 s), even on a loaded machine, and below
        # the 3 s of `slow_next` in the tests of a timeout
        monkeypatch.setenv("CRM_READ_TIMEOUT", "2")
        config.reset()
        yield {"van": van, "pdi": pdi, "salsa": salsa}
        for fake in (van, pdi, salsa):
            fake.assert_no_forbidden_calls()
    config.reset()


@pytest.fixture
def chalice_app(stack: dict[str, str]) -> Any:
    from app import app

    return app


@pytest.fixture
def chalice_client(chalice_app: Any, enforcer: Enforcer) -> Iterator[Any]:
    """chalice's test client; a request runs as the API function (its token and session
    check included), an invoked handler as its own function."""
    from chalice.test import Client

    with Client(chalice_app) as client:
        request, invoke = client.http.request, client.lambda_.invoke

        def request_as_api(*args: Any, **kwargs: Any) -> Any:
            with enforcer.acting_as("APIHandler"):
                return request(*args, **kwargs)

        def invoke_as_handler(name: str, *args: Any, **kwargs: Any) -> Any:
            with enforcer.acting_as(camel(name)):
                return invoke(name, *args, **kwargs)

        client.http.request = request_as_api
        client.lambda_.invoke = invoke_as_handler
        yield client


@pytest.fixture
def imports(stack: dict[str, str], chalice_client: Any) -> Any:
    """The import queue, worked on demand (`imports.drain()`)."""
    from tests.queues import ImportQueue

    return ImportQueue(stack, chalice_client)


@pytest.fixture
def api(chalice_client: Any, imports: Any) -> Api:
    """The API in this process. A list sent or deleted is imported or erased before the
    call returns, as Lambda would do it within moments (`raw_api` leaves the queue be)."""
    send = chalice_transport(chalice_client)

    def send_and_work(method: str, path: str, headers: dict[str, str], payload: Any) -> Any:
        reply = send(method, path, headers, payload)
        if method in ("POST", "DELETE") and (
            "/lists" in path or path.endswith("/retry") or path.endswith("/exports")
        ):
            imports.drain()
        return reply

    return Api(send_and_work)


@pytest.fixture
def raw_api(chalice_client: Any) -> Api:
    return Api(chalice_transport(chalice_client))


@pytest.fixture
def stream(stack: dict[str, str], chalice_client: Any) -> Any:
    """The main table's stream, read as Lambda would be handed it."""
    from tests.streams import StreamTap

    return StreamTap(stack, chalice_client)


class _Lines(logging.Handler):
    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every line the app logs during the test, formatted as it writes them."""
    from chalicelib.observability import logger

    target = logging.getLogger(logger.name)
    handler = _Lines(logger.registered_formatter)
    # whatever an earlier test in this process did to logging, this one sees INFO lines
    level, disabled, floor = target.level, target.disabled, logging.root.manager.disable
    target.setLevel(logging.INFO)
    target.disabled = False
    logging.disable(logging.NOTSET)
    target.addHandler(handler)
    try:
        yield handler.lines
    finally:
        target.removeHandler(handler)
        target.setLevel(level)
        target.disabled = disabled
        logging.disable(floor)


@pytest.fixture
def fresh_rate_limiters() -> Iterator[None]:
    """No learnt rate limit and no pause before the test or after it: the limiters are shared
    by the clients of one process, keyed by base URL and credentials, and a fake's port can be
    reused."""
    from chalicelib.crm.ratelimit import reset_limiters

    reset_limiters()
    yield
    reset_limiters()
