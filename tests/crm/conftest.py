"""What the CRM client tests share: a fake server per provider, and limiters that start and end
every test with no learnt rate limit and no pause (`fresh_rate_limiters`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.pdi import FakePdi
from tests.fakes.salsa import FakeSalsa
from tests.fakes.van import FakeVan


@pytest.fixture(autouse=True)
def _fresh_rate_limiters(fresh_rate_limiters: None) -> None:
    """Every test here, and not only those that ask (the fixture is in tests/conftest.py)."""


@pytest.fixture
def van_fake() -> Iterator[FakeVan]:
    with FakeVan() as fake:
        yield fake
        fake.assert_no_forbidden_calls()


@pytest.fixture
def pdi_fake() -> Iterator[FakePdi]:
    with FakePdi() as fake:
        yield fake
        fake.assert_no_forbidden_calls()


@pytest.fixture
def salsa_fake() -> Iterator[FakeSalsa]:
    with FakeSalsa() as fake:
        yield fake
        fake.assert_no_forbidden_calls()
