"""The fake CRM servers under one name, for the benchmarks that start one (`bench/`).

Each fake lives in its own module (`tests.fakes.van`, `tests.fakes.pdi`, `tests.fakes.salsa`),
with what it models and what public material leaves open; what they share, and the control API
every fake answers, is in `tests.fakes.base`.
"""

from tests.fakes.base import FakeCrmServer
from tests.fakes.pdi import PDI_ACQUISITIONS, PDI_FLAGS, PDI_QUESTIONS, FakePdi
from tests.fakes.salsa import FakeSalsa
from tests.fakes.van import FakeVan

__all__ = [
    "PDI_ACQUISITIONS",
    "PDI_FLAGS",
    "PDI_QUESTIONS",
    "FakeCrmServer",
    "FakePdi",
    "FakeSalsa",
    "FakeVan",
]
