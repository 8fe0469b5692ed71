"""The browser tier: starts the local stack (with a VAN stand-in), then runs the Playwright
suite in `console/` against it and asserts it passed, printing what it printed and the
axe-core counts per page. Needs `make console` first (the build and Chromium)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.child import ROOT, LocalStack, start
from tests.fakes.pdi import FakePdi
from tests.fakes.salsa import FakeSalsa
from tests.fakes.van import FakeVan

CONSOLE = ROOT / "console"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def van() -> Iterator[FakeVan]:
    with FakeVan() as fake:
        yield fake


@pytest.fixture(scope="module")
def pdi() -> Iterator[FakePdi]:
    with FakePdi() as fake:
        yield fake


@pytest.fixture(scope="module")
def salsa() -> Iterator[FakeSalsa]:
    with FakeSalsa() as fake:
        yield fake


@pytest.fixture(scope="module")
def stack(van: FakeVan, pdi: FakePdi, salsa: FakeSalsa) -> Iterator[LocalStack]:
    if not (CONSOLE / "dist" / "index.html").exists() or not Path(CHROMIUM).exists():
        pytest.fail("the console is not built or Chromium is missing: run `make console`")
    stack = start({"VAN_API_URL": van.url, "PDI_API_URL": pdi.url, "SALSA_API_URL": salsa.url})
    yield stack
    stack.stop()


def _outbox(stack: LocalStack) -> str:
    line = next(x for x in stack.output if "E-mails the system sends are written to" in x)
    return str(ROOT / line.rsplit(" ", 1)[1].strip())


def _operator_env(stack: LocalStack) -> str:
    line = next(x for x in stack.output if "Operator commands on this stack" in x)
    return str(ROOT / line.split(". ", 1)[1].split(";")[0].strip())


def test_the_console_passes_its_browser_suite(
    stack: LocalStack, van: FakeVan, pdi: FakePdi, salsa: FakeSalsa
) -> None:
    results = CONSOLE / "test-results"
    shutil.rmtree(results, ignore_errors=True)
    env = {
        **os.environ,
        "CONSOLE_BASE_URL": stack.base_url,
        "CONSOLE_OUTBOX": _outbox(stack),
        "CONSOLE_OPERATOR_ENV": _operator_env(stack),
        "CONSOLE_PYTHON": sys.executable,
        "VAN_TEST_CREDENTIALS": json.dumps(van.credentials),
        "PDI_TEST_CREDENTIALS": json.dumps(pdi.credentials),
        "SALSA_TEST_CREDENTIALS": json.dumps(salsa.credentials),
        "CHROMIUM_PATH": CHROMIUM,
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
        "CI": "1",
    }
    started = time.monotonic()
    run = subprocess.run(
        [str(CONSOLE / "node_modules" / ".bin" / "playwright"), "test"],
        cwd=CONSOLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    took = time.monotonic() - started
    print(run.stdout[-20000:], run.stderr[-5000:], sep="\n")
    print(f"browser tier: {took:.0f} s")
    axe = results / "axe.jsonl"
    if axe.exists():
        print("axe-core per page (critical/serious/moderate/minor):")
        for line in axe.read_text().splitlines():
            r = json.loads(line)
            print(f"  {r['page']:<24} {r['critical']}/{r['serious']}/{r['moderate']}/{r['minor']}")
    assert run.returncode == 0, "the Playwright suite failed (its output is above)"


def _get(stack: LocalStack, path: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(stack.base_url + path)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.parametrize(
    "path",
    ["/console/", "/console/c/some-campaign/actions", "/console/signin"],
)
def test_client_side_routes_get_the_page_with_a_strict_csp(stack: LocalStack, path: str) -> None:
    status, headers, body = _get(stack, path)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b'<div id="app">' in body
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert f"connect-src 'self' http://127.0.0.1:{stack.emulator_port}" in csp
    assert b"<script>" not in body  # no inline script


def test_files_have_their_types_and_config_names_the_api_base(stack: LocalStack) -> None:
    _, _, page = _get(stack, "/console/")
    script = page.split(b'src="', 1)[1].split(b'"', 1)[0].decode()
    status, headers, _ = _get(stack, script)
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert "immutable" in headers["Cache-Control"]
    status, headers, body = _get(stack, "/console/config.json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"api_base": "", "idle_timeout_seconds": 900}


@pytest.mark.parametrize(
    "path",
    [
        "/console/../app.py",
        "/console/%2e%2e/app.py",
        "/console/..%2f..%2fapp.py",
        "/console/assets/../../../app.py",
        "/console/%2e%2e/%2e%2e/.venv/pyvenv.cfg",
        "/console/.gitignore",
        "/console/assets/missing.js",
        "/console/..%5capp.py",
    ],
)
def test_no_file_outside_the_console_is_served(stack: LocalStack, path: str) -> None:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
    connection.request("GET", path)  # sent as written: no client-side normalising
    reply = connection.getresponse()
    body = reply.read()
    connection.close()
    assert reply.status in (400, 404)
    assert b"import" not in body and b"home" not in body


def test_the_console_takes_only_get_and_head(stack: LocalStack) -> None:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
    connection.request("POST", "/console/", body=b"{}")
    reply = connection.getresponse()
    reply.read()
    assert reply.status == 405 and reply.getheader("Allow") == "GET, HEAD"
    connection.request("HEAD", "/console/")
    reply = connection.getresponse()
    assert reply.status == 200 and reply.read() == b""
    connection.close()


def test_the_banner_names_the_console(stack: LocalStack) -> None:
    banner = "".join(stack.output)
    assert f"Admin console: {stack.base_url}/console/\n" in banner
    assert stack.value("admin") == "admin@example.org"  # the line leaves the banner's words alone
