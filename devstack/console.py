"""The admin console's files (`console/dist`, built by `make console`), served under
`/console/` on the API's own port, as CloudFront serves them from S3 in AWS.

Every path under `/console/` without a file extension is a client-side route: it gets
`index.html`. A path that names a file gets that file or 404, never a file outside the
folder. `config.json` is written here, not built: the console reads its API base from it
(the API is at the root locally, under `/api` in AWS), since the CSP allows no inline script.
"""

from __future__ import annotations

import json
import os
import posixpath
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

PREFIX = "/console"
DIST = Path(__file__).resolve().parent.parent / "console" / "dist"

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}


def content_security_policy(upload_origin: str | None) -> str:
    """No inline script or style; the API on the same origin; presigned uploads go to S3
    (locally: the emulator's origin)."""
    connect = "'self'" + (f" {upload_origin}" if upload_origin else "")
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
        "object-src 'none'"
    )


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class ConsoleFiles:
    def __init__(self, root: Path = DIST, upload_origin: str | None = None) -> None:
        self.root = root.resolve()
        if upload_origin is None:
            upload_origin = _origin(
                os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
            )
        self.csp = content_security_policy(upload_origin)

    @staticmethod
    def handles(path: str) -> bool:
        route = urllib.parse.urlsplit(path).path
        return route == PREFIX or route.startswith(PREFIX + "/")

    def answer(self, path: str) -> Answer:
        route = urllib.parse.urlsplit(path).path
        if route == PREFIX:
            return self._plain(308, "", {"Location": PREFIX + "/"})
        relative = urllib.parse.unquote(route[len(PREFIX) + 1 :])
        if "\x00" in relative or "\\" in relative:
            return self._plain(400, "bad path")
        if relative == "config.json":
            body = json.dumps({"api_base": "", "idle_timeout_seconds": 900}).encode()
            return self._file(body, ".json", cache="no-cache")
        normal = posixpath.normpath("/" + relative).lstrip("/")
        if any(part.startswith(".") for part in normal.split("/") if part):
            return self._plain(404, "no such file")
        if not (self.root / "index.html").is_file():
            return self._plain(
                503, "The console is not built: run `make console` (or `make run`), then reload."
            )
        if normal and posixpath.splitext(normal)[1]:
            target = (self.root / normal).resolve()
            if not target.is_relative_to(self.root) or not target.is_file():
                return self._plain(404, "no such file")
            extension = target.suffix.lower()
            if extension not in TYPES:
                return self._plain(404, "no such file")
            immutable = normal.startswith("assets/")  # content-hashed names
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            return self._file(target.read_bytes(), extension, cache=cache)
        # a client-side route (or the console's root): the app decides what it shows
        return self._file((self.root / "index.html").read_bytes(), ".html", cache="no-cache")

    def _headers(self, content_type: str, cache: str) -> dict[str, str]:
        return {
            "Content-Type": content_type,
            "Cache-Control": cache,
            "Content-Security-Policy": self.csp,
            "X-Content-Type-Options": "nosniff",
            "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
            "Referrer-Policy": "no-referrer",
            "Cross-Origin-Opener-Policy": "same-origin",
            "X-Frame-Options": "DENY",
        }

    def _file(self, body: bytes, extension: str, cache: str) -> Answer:
        return Answer(200, self._headers(TYPES[extension], cache), body)

    def _plain(self, status: int, text: str, extra: dict[str, str] | None = None) -> Answer:
        headers = {**self._headers("text/plain; charset=utf-8", "no-store"), **(extra or {})}
        return Answer(status, headers, text.encode())
