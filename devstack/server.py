"""Chalice's local dev server, embedded in this process.

Responses that the gateway itself produces (401 without a token, 403 for an
unknown route) get the same headers and error shape that `infra/` configures as
API Gateway's gateway responses, so the local stack answers as AWS would.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
)

from chalicelib.api.http import SECURITY_HEADERS
from devstack.console import ConsoleFiles

_GATEWAY_CODES = {401: "UnauthorizedError", 403: "ForbiddenError", 404: "NotFoundError"}


class GatewayHandler(ChaliceRequestHandler):
    console: ConsoleFiles | None = None  # the admin console's files, under /console/

    def _send_error_response(self, error: LocalGatewayException) -> None:
        try:
            message = json.loads(error.body or b"{}")
            text = message.get("message") or message.get("Message") or "request refused"
        except ValueError:
            text = "request refused"
        if error.CODE == 403 and "Missing Authentication Token" in str(text):
            code, text = 404, "no such route"
        else:
            code = error.CODE
        body = json.dumps({"Code": _GATEWAY_CODES.get(code, "GatewayError"), "Message": text})
        headers: dict[str, Any] = {
            **SECURITY_HEADERS,
            "Cache-Control": "no-store",
            "X-Request-Id": str(uuid.uuid4()),
            "Content-Type": "application/json",
        }
        self._send_http_response(code, headers, body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the app writes its own structured line per request."""

    def _allowed(self) -> list[str] | None:
        """The methods of the route the path names, or None for no route."""
        gateway = self.local_gateway
        try:
            matched = gateway.event_converter._route_matcher.match_route(self.path)
        except Exception:  # no route: the gateway's own 404
            return None
        return sorted(gateway._app_object.routes[matched.route])

    def _method_not_allowed(self, allowed: list[str]) -> None:
        body = json.dumps({"Code": "MethodNotAllowedError", "Message": "method not allowed"})
        headers: dict[str, Any] = {
            **SECURITY_HEADERS,
            "Cache-Control": "no-store",
            "X-Request-Id": str(uuid.uuid4()),
            "Content-Type": "application/json",
            "Allow": ", ".join(allowed),
        }
        self._send_http_response(405, headers, body)

    def _serve_console(self) -> bool:
        """GET or HEAD under /console/: the console's files (True), else the API (False)."""
        console = self.console
        if console is None or not console.handles(self.path):
            return False
        if self.command not in ("GET", "HEAD"):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(min(length, 1 << 20))  # keep the connection's next request intact
            self._method_not_allowed(["GET", "HEAD"])
            return True
        answer = console.answer(self.path)
        self.send_response(answer.status)
        for name, value in {**answer.headers, "Content-Length": str(len(answer.body))}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(answer.body)
        return True

    def _handle(self) -> None:
        """A method the path's route does not take: 405 with `Allow`, in the API's shape."""
        if self._serve_console():
            return
        allowed = self._allowed()
        if allowed is not None and self.command not in allowed and self.command != "OPTIONS":
            self._method_not_allowed(allowed)
            return
        self._generic_handle()

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _handle

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Any other method (TRACE, QUERY, ...): answered as the API answers, not with the
        standard library's HTML 501."""
        if code == 501:
            self._handle()
            return
        super().send_error(code, message, explain)

    def version_string(self) -> str:
        """The `Server` header: the product, never the Python or library versions."""
        return "volunteer-organizer"


class EmbeddedServer:
    def __init__(self, app: Any, host: str, port: int) -> None:
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
        config = Config.create(chalice_stage="local", app_name=app.app_name, lambda_timeout=60)
        handler = type("Handler", (GatewayHandler,), {"console": ConsoleFiles()})
        self._server = LocalDevServer(app, config, host, port, handler_cls=handler)
        self._thread = threading.Thread(target=self._server.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server.server_close()
        self._thread.join(timeout=5)
