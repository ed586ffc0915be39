"""Deterministic fault injection: what the next call(s) of an endpoint go through."""

from __future__ import annotations

import enum

import attrs

from safetrade.testing._wire import Rejection

__all__ = ["Fault", "FaultPlan", "Rejection"]


class Fault(enum.Enum):
    """A failure the fake plays on the next call(s) of one endpoint.

    Members:
        TIMEOUT: Nothing happens on the exchange; the client sees a read timeout
            (ccxt ``RequestTimeout``; over loopback the connection is dropped -> ``NetworkError``).
        SERVER_ERROR: HTTP 500 with ``{"code":"500000"}``; nothing happens
            (ccxt ``ExchangeNotAvailable``).
        RATE_LIMIT: HTTP 429 with ``{"code":"429000"}``; nothing happens
            (ccxt ``RateLimitExceeded``).
        RESPONSE_LOST: The request IS processed (an order is stored and may fill) but the
            response never arrives: the client sees a timeout as with ``TIMEOUT``.

    ``Fault.reject(code, msg)`` builds a KuCoin rejection to inject instead of processing.
    """

    TIMEOUT = "timeout"
    SERVER_ERROR = "server_error"
    RATE_LIMIT = "rate_limit"
    RESPONSE_LOST = "response_lost"

    @staticmethod
    def reject(code: str, msg: str, status: int = 200) -> Rejection:
        """Return a KuCoin error body to answer with instead of processing the request.

        Args:
            code: KuCoin error code, e.g. ``"400100"``.
            msg: KuCoin message, e.g. ``"Parameter Error"``.
            status: HTTP status (KuCoin sends most business errors with 200).
        """
        return Rejection(code, msg, status)


@attrs.define
class _Armed:
    fault: Fault | Rejection
    left: int


class FaultPlan:
    """Per-endpoint FIFO of faults, each armed for a number of calls."""

    def __init__(self, endpoints: frozenset[str]) -> None:
        self._endpoints = endpoints
        self._queues: dict[str, list[_Armed]] = {}

    def add(self, endpoint: str, fault: Fault | Rejection, times: int) -> None:
        """Arm ``fault`` for the next ``times`` calls of ``endpoint`` (after earlier faults)."""
        if endpoint not in self._endpoints:
            known = ", ".join(sorted(self._endpoints))
            msg = f"unknown endpoint {endpoint!r}; known endpoints: {known}"
            raise ValueError(msg)
        if times < 1:
            msg = f"times must be >= 1, got {times}"
            raise ValueError(msg)
        self._queues.setdefault(endpoint, []).append(_Armed(fault, times))

    def take(self, endpoint: str) -> Fault | Rejection | None:
        """Return the fault for this call of ``endpoint`` (consuming one use), or None."""
        queue = self._queues.get(endpoint)
        if not queue:
            return None
        head = queue[0]
        head.left -= 1
        if head.left == 0:
            queue.pop(0)
        return head.fault

    def pending(self) -> dict[str, list[dict[str, object]]]:
        """The armed faults per endpoint, in the order they will play."""
        return {
            endpoint: [
                {"fault": a.fault.value if isinstance(a.fault, Fault) else attrs.asdict(a.fault),
                 "left": a.left}
                for a in queue
            ]
            for endpoint, queue in self._queues.items()
            if queue
        }  # fmt: skip

    def clear(self) -> None:
        """Disarm every pending fault."""
        self._queues.clear()
