"""Serve a fake's respx router over real HTTP on 127.0.0.1 (loopback tests, other languages)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

import httpx

__all__ = ["LoopbackServer"]

Handler = Callable[[httpx.Request], httpx.Response]
# far above any KuCoin request (a batch of 20 orders is a few KB); bigger bodies are refused
# before they are read, so a runaway client cannot fill the fake's memory
MAX_BODY_BYTES = 1 << 20


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, handler: Handler) -> None:
        self.app = handler
        # loopback only: the fake accepts well-known test keys, so it must never face a network
        super().__init__(("127.0.0.1", port), _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so loopback clients reuse their connection
    # headers and body go out in two writes; without TCP_NODELAY each response stalls ~40 ms
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet; the fake records requests itself."""

    def _refuse(self, status: int, reason: str) -> None:
        # the body is not read: answer and hang up, as a front proxy does
        payload = json.dumps({"code": str(status), "msg": reason}).encode()
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def _handle(self) -> None:
        raw_length = self.headers.get("Content-Length") or "0"
        if not raw_length.isascii() or not raw_length.isdigit():
            self._refuse(400, "Bad Request: Content-Length")
            return
        length = int(raw_length)
        if length > MAX_BODY_BYTES:
            self._refuse(413, "Request Entity Too Large")
            return
        body = self.rfile.read(length) if length else b""
        request = httpx.Request(
            self.command,
            f"http://{self.headers.get('Host', '127.0.0.1')}{self.path}",
            headers=list(self.headers.items()),
            content=body,
        )
        try:
            response = self.server.app(request)
        except httpx.TimeoutException:
            # an injected timeout / lost response: hang up without answering
            self.close_connection = True
            return
        payload = response.content
        self.send_response(response.status_code)
        for key, value in response.headers.items():
            if key.lower() not in ("content-length", "connection"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = do_PUT = _handle  # noqa: N815 - http.server naming


class LoopbackServer:
    """A ``ThreadingHTTPServer`` on 127.0.0.1 answering with ``handler``, run in a daemon thread.

    Args:
        handler: Turns an ``httpx.Request`` into an ``httpx.Response`` (a respx router's handler).
        port: TCP port; 0 picks a free one.
    """

    def __init__(self, handler: Handler, port: int = 0) -> None:
        self._server = _Server(port, handler)
        # a short poll interval keeps close() (and so every loopback test) fast
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="fake-kucoin-http",
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``; point every ccxt API group at it."""
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
