"""Fixtures: the embedded emulator (one per test session, reset for every test),
the app on it, and an API client through chalice's test client."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.stack import Emulator, apply, base_environment, provision
from tests.helpers import Api, chalice_transport


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    emu = Emulator.start()
    yield emu
    emu.stop()


@pytest.fixture
def stack(emulator: Emulator) -> dict[str, str]:
    """A freshly provisioned, empty emulator, and the app's settings pointing at it."""
    emulator.reset()
    env = base_environment(emulator.endpoint, stage="test")
    env.update(provision(env))
    apply(env)
    return env


@pytest.fixture
def chalice_app(stack: dict[str, str]) -> Any:
    from app import app

    return app


@pytest.fixture
def chalice_client(chalice_app: Any) -> Iterator[Any]:
    from chalice.test import Client

    with Client(chalice_app) as client:
        yield client


@pytest.fixture
def api(chalice_client: Any) -> Api:
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
