"""The deployment tier: the template and package `make package` writes, built once per
test session (under a lock: chalice keeps one build cache for every worker)."""

from __future__ import annotations

import fcntl
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Packaged:
    out: Path
    template: dict[str, Any]
    sizes: dict[str, int]
    seconds: float

    @property
    def zip_path(self) -> Path:
        return self.out / "deployment.zip"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/deploy/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.deploy)


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    import time

    from infra.package import package

    out = tmp_path_factory.mktemp("package")
    lock_path = ROOT / ".chalice" / "deployments"
    lock_path.mkdir(parents=True, exist_ok=True)
    with open(lock_path / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        started = time.monotonic()
        sizes = package(out)
        seconds = time.monotonic() - started
    template = json.loads((out / "sam.json").read_text())
    return Packaged(out, template, sizes, seconds)
