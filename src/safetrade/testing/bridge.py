"""Route a ``requests.Session`` (what ccxt's sync client uses) through any httpx transport.

respx only intercepts httpx/httpcore traffic, while ``ccxt.kucoin`` talks through ``requests``.
:func:`session_over` closes that gap: every request the session sends is converted to an
``httpx.Request`` and handed to the transport, e.g. ``httpx.MockTransport(router.handler)`` for
the fake KuCoin, or a real ``httpx.HTTPTransport()``.

Transport errors are translated into the ``requests`` exceptions ccxt already maps:
``httpx.TimeoutException`` becomes ``requests.exceptions.Timeout`` (ccxt ``RequestTimeout``) and
any other ``httpx.TransportError`` becomes ``requests.exceptions.ConnectionError``
(ccxt ``NetworkError``).

When the transport is an ``httpx.MockTransport`` answering with a :class:`WireApp`'s own
``dispatch`` (the fake KuCoin's request pipeline), the session skips httpx altogether: the
``requests.PreparedRequest`` becomes a :class:`WireRequest` and the app's :meth:`WireApp.respond`
is called directly. ``dispatch`` is ``respond`` behind the same conversion from an
``httpx.Request``, so both paths get the same answer (status, body and the app's own headers);
the direct one builds no httpx objects (in-process, that plumbing cost more than the fake's own
work).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from http import HTTPStatus
from urllib.parse import unquote, urlsplit

import attrs
import httpx
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

__all__ = [
    "DirectAdapter",
    "HttpxTransportAdapter",
    "Unanswered",
    "WireAnswer",
    "WireApp",
    "WireRequest",
    "session_over",
    "wire_request",
]


@attrs.frozen
class WireRequest:
    """One HTTP request as an in-process app reads it, whatever client library sent it.

    Attributes:
        method: Upper-case HTTP method.
        host: Host the client addressed (lower case).
        path: URL path, percent-decoded (``httpx.URL.path``).
        raw_target: Path plus ``?query`` exactly as sent, not re-encoded.
        query: The raw query string, without ``?``.
        headers: Case-insensitive request headers.
        body: The body's bytes (``b""`` when absent).
    """

    method: str
    host: str
    path: str
    raw_target: str
    query: str
    headers: Mapping[str, str]
    body: bytes


def wire_request(request: httpx.Request) -> WireRequest:
    """The :class:`WireRequest` of an ``httpx.Request``."""
    url = request.url
    return WireRequest(
        method=request.method,
        host=url.host,
        path=url.path,
        raw_target=url.raw_path.decode("ascii"),
        query=url.query.decode("ascii"),
        headers=request.headers,
        body=request.content,
    )


@attrs.frozen
class WireAnswer:
    """An app's answer: HTTP status, JSON body and the app's own extra response headers.

    Attributes:
        status: HTTP status.
        body: The JSON body's bytes.
        headers: Extra headers (``Content-Type`` and ``Content-Length`` are always added).
    """

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


class Unanswered(Exception):
    """The app answers nothing (a timeout, or a response lost after it was processed)."""


class WireApp(ABC):
    """An in-process HTTP app with a fast path for bridged ``requests`` sessions."""

    @abstractmethod
    def respond(self, request: WireRequest) -> WireAnswer:
        """Return the status, JSON body and extra headers for ``request``.

        Raises:
            Unanswered: The client must see a timeout.
        """

    def dispatch(self, request: httpx.Request) -> httpx.Response:
        """Answer an ``httpx.Request`` (``httpx.MockTransport``, a loopback server).

        Raises:
            httpx.ReadTimeout: :meth:`respond` gave no answer.
        """
        try:
            answer = self.respond(wire_request(request))
        except Unanswered as exc:
            raise httpx.ReadTimeout(str(exc), request=request) from None
        return httpx.Response(
            answer.status, content=answer.body, headers=[*_JSON.items(), *answer.headers]
        )


_JSON = {"Content-Type": "application/json"}
_JSON_ENCODING = get_encoding_from_headers(CaseInsensitiveDict(_JSON))
_REASONS = {status.value: status.phrase for status in HTTPStatus}


class HttpxTransportAdapter(BaseAdapter):
    """A ``requests`` transport adapter that delegates every request to an httpx transport.

    Args:
        transport: Where requests go, e.g. ``httpx.MockTransport(router.handler)``.
    """

    def __init__(self, transport: httpx.BaseTransport) -> None:
        super().__init__()
        self._transport = transport

    def send(  # noqa: PLR0917 - requests' BaseAdapter.send signature
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send ``request`` through the httpx transport and return a ``requests.Response``."""
        del stream, verify, cert, proxies  # part of requests' signature; meaningless here
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        outgoing = httpx.Request(
            method=request.method or "GET",
            url=request.url or "",
            headers=list(request.headers.items()),
            content=body or b"",
            # a real HTTPTransport then honours ccxt's own timeout setting
            extensions={
                "timeout": {"connect": connect, "read": read, "write": read, "pool": connect}
            },
        )
        try:
            incoming = self._transport.handle_request(outgoing)
            content = incoming.read()
        except httpx.TimeoutException as exc:
            raise requests.exceptions.Timeout(str(exc), request=request) from exc
        except httpx.TransportError as exc:
            raise requests.exceptions.ConnectionError(str(exc), request=request) from exc
        response = requests.Response()
        response.status_code = incoming.status_code
        response.reason = incoming.reason_phrase
        # httpx already decoded the body, so a Content-Encoding header would make requests
        # try to decode it a second time
        response.headers = CaseInsensitiveDict(
            (k, v) for k, v in incoming.headers.items() if k.lower() != "content-encoding"
        )
        response._content = content
        response.encoding = get_encoding_from_headers(response.headers)
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        """Close the underlying transport."""
        self._transport.close()


class DirectAdapter(HttpxTransportAdapter):
    """The in-process fast path: a ``requests`` adapter that calls a :class:`WireApp` directly.

    Args:
        transport: A ``httpx.MockTransport`` whose handler is ``app.dispatch`` (kept, so the
            session says where it goes exactly as an :class:`HttpxTransportAdapter` does).
        app: The app that answers.
    """

    def __init__(self, transport: httpx.MockTransport, app: WireApp) -> None:
        super().__init__(transport)
        self._app = app

    def send(  # noqa: PLR0917 - requests' BaseAdapter.send signature
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Answer ``request`` in-process and return the ``requests.Response``."""
        del stream, timeout, verify, cert, proxies  # nothing goes over a network
        url = request.url or ""
        parts = urlsplit(url)
        raw_path = parts.path or "/"
        body = request.body
        wire = WireRequest(
            method=request.method or "GET",
            host=parts.hostname or "",
            path=unquote(raw_path),
            raw_target=f"{raw_path}?{parts.query}" if parts.query else raw_path,
            query=parts.query,
            headers=request.headers,
            body=body.encode("utf-8") if isinstance(body, str) else body or b"",
        )
        try:
            answer = self._app.respond(wire)
        except Unanswered as exc:
            raise requests.exceptions.Timeout(str(exc), request=request) from exc
        payload = answer.body
        response = requests.Response()
        response.status_code = answer.status
        response.reason = _REASONS.get(answer.status, "")
        response.headers = CaseInsensitiveDict(
            {
                "Content-Type": "application/json",
                "Content-Length": str(len(payload)),
                **dict(answer.headers),
            }
        )
        response._content = payload
        response.encoding = _JSON_ENCODING
        response.url = url
        response.request = request
        return response


def _direct_app(transport: httpx.BaseTransport) -> WireApp | None:
    """The app a MockTransport answers with through its own ``dispatch``, if it is one."""
    if not isinstance(transport, httpx.MockTransport):
        return None
    handler = transport.handler
    app = getattr(handler, "__self__", None)
    # only the plain conversion: an app that overrides dispatch must be called through it
    if isinstance(app, WireApp) and getattr(handler, "__func__", None) is WireApp.dispatch:
        return app
    return None


def session_over(transport: httpx.BaseTransport) -> requests.Session:
    """Return a ``requests.Session`` whose http and https traffic goes to ``transport``.

    Args:
        transport: The httpx transport that answers every request of the session.

    Returns:
        A session with ``trust_env`` off, so no proxy or netrc settings leak in.
    """
    session = requests.Session()
    session.trust_env = False
    app = _direct_app(transport)
    adapter = (
        HttpxTransportAdapter(transport) if app is None else DirectAdapter(transport, app)  # type: ignore[arg-type] # a MockTransport
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
