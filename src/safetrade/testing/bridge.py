"""Route a ``requests.Session`` (what ccxt's sync client uses) through any httpx transport.

respx only intercepts httpx/httpcore traffic, while ``ccxt.kucoin`` talks through ``requests``.
:func:`session_over` closes that gap: every request the session sends is converted to an
``httpx.Request`` and handed to the transport, e.g. ``httpx.MockTransport(router.handler)`` for
the fake KuCoin, or a real ``httpx.HTTPTransport()``.

Transport errors are translated into the ``requests`` exceptions ccxt already maps:
``httpx.TimeoutException`` becomes ``requests.exceptions.Timeout`` (ccxt ``RequestTimeout``) and
any other ``httpx.TransportError`` becomes ``requests.exceptions.ConnectionError``
(ccxt ``NetworkError``).
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

__all__ = ["HttpxTransportAdapter", "session_over"]


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


def session_over(transport: httpx.BaseTransport) -> requests.Session:
    """Return a ``requests.Session`` whose http and https traffic goes to ``transport``.

    Args:
        transport: The httpx transport that answers every request of the session.

    Returns:
        A session with ``trust_env`` off, so no proxy or netrc settings leak in.
    """
    session = requests.Session()
    session.trust_env = False
    adapter = HttpxTransportAdapter(transport)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
