"""The console's file serving on its own (devstack/console.py), on a folder made here."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack.console import ConsoleFiles, content_security_policy


@pytest.fixture
def files(tmp_path: Path) -> ConsoleFiles:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=app></div>")
    (tmp_path / "assets" / "index-abc.js").write_text("export {}")
    (tmp_path / "assets" / "index-abc.css").write_text("body{}")
    (tmp_path / "assets" / "notes.md").write_text("not a type the console serves")
    (tmp_path.parent / "secret.txt").write_text("outside")
    return ConsoleFiles(tmp_path, upload_origin="http://127.0.0.1:4566")


@pytest.mark.parametrize(
    ("path", "status", "content_type"),
    [
        ("/console/", 200, "text/html; charset=utf-8"),
        ("/console/c/123/lists?x=1", 200, "text/html; charset=utf-8"),
        ("/console/assets/index-abc.js", 200, "text/javascript; charset=utf-8"),
        ("/console/assets/index-abc.css", 200, "text/css; charset=utf-8"),
        ("/console/config.json", 200, "application/json"),
        ("/console/assets/notes.md", 404, "text/plain; charset=utf-8"),
        ("/console/assets/missing.js", 404, "text/plain; charset=utf-8"),
        ("/console/../secret.txt", 404, "text/plain; charset=utf-8"),
        ("/console/%2e%2e/secret.txt", 404, "text/plain; charset=utf-8"),
        ("/console/assets/%00.js", 400, "text/plain; charset=utf-8"),
        ("/console/.hidden/x.js", 404, "text/plain; charset=utf-8"),
    ],
)
def test_each_path_gets_its_file_the_page_or_a_refusal(files, path, status, content_type):
    answer = files.answer(path)
    assert (answer.status, answer.headers["Content-Type"]) == (status, content_type)
    assert answer.headers["Content-Security-Policy"] == files.csp
    assert b"outside" not in answer.body


def test_the_prefix_alone_redirects_to_the_folder(files):
    answer = files.answer("/console")
    assert answer.status == 308 and answer.headers["Location"] == "/console/"


def test_an_unbuilt_console_says_how_to_build_it(tmp_path):
    answer = ConsoleFiles(tmp_path / "nothing").answer("/console/")
    assert answer.status == 503 and b"make console" in answer.body


def test_only_console_paths_are_taken_from_the_api():
    assert ConsoleFiles.handles("/console/x") and ConsoleFiles.handles("/console")
    assert not ConsoleFiles.handles("/consoles") and not ConsoleFiles.handles("/campaigns")


def test_the_csp_names_the_upload_origin_and_allows_no_inline_code():
    csp = content_security_policy("http://127.0.0.1:4566")
    assert "connect-src 'self' http://127.0.0.1:4566;" in csp
    assert "unsafe" not in csp and "script-src 'self';" in csp and "base-uri 'none'" in csp
