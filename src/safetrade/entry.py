"""Send an entry order and find out what actually filled, without ever sending it twice.

A timeout on the entry leaves the outcome unknown: the order may have filled. Re-sending
blindly could double the position; giving up blindly could leave a filled position nobody
protects. So the entry is retried through :meth:`Gateway.ensure_submitted_unguarded` (which
looks the clientOid up first), and the fill is always read back from the exchange. The result is the
*filled* amount, which may be less than requested (KuCoin filled 1.417 of 4.5 SOL on Feb 6).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import attrs

from safetrade._validate import require_instance
from safetrade.errors import DecisionMismatch, ExchangeError, ExchangeUnavailable
from safetrade.fills import Fill
from safetrade.gateway import Gateway, OrderStatus
from safetrade.guard import Decision
from safetrade.plan import TradePlan
from safetrade.retry import RetryPolicy

__all__ = ["EntryResult", "execute_entry"]

log = logging.getLogger("safetrade.entry")


@attrs.frozen(kw_only=True)
class EntryResult:
    """What became of an entry order.

    Attributes:
        fill: The filled position, or ``None`` if nothing filled.
        order: The entry order as last read from the exchange, if it exists there.
        error: Why nothing filled, if nothing did.
        outcome_unknown: The exchange never confirmed either way; the bot must run
            :meth:`Protector.reconcile` before trading on, because a position may exist.
    """

    fill: Fill | None
    order: OrderStatus | None
    error: str | None = None
    outcome_unknown: bool = False


def execute_entry(
    gateway: Gateway,
    plan: TradePlan,
    decision: Decision,
    *,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> EntryResult:
    """Send ``plan.entry`` (idempotently) and read back the fill, if the guard allowed it.

    Args:
        gateway: The exchange.
        plan: The trade to enter.
        decision: What :func:`safetrade.check` said about *this* plan: the proof that every
            pre-trade control passed. Nothing is sent unless it allows ``plan``.
        retry: Attempts and back-off for transient failures.
        sleep: Waits between attempts (injected so tests need no wall clock).

    Returns:
        An :class:`EntryResult`; ``fill`` is set whenever anything filled, even if a later
        read failed, because a filled position must be protected.

    Raises:
        GuardRefused: The decision refused the plan (every reason listed); nothing was sent.
        DecisionMismatch: The decision was made for a different plan; nothing was sent.
    """
    plan = require_instance(plan, TradePlan, "plan", "pass the plan safetrade.plan_trade made")
    gateway = require_instance(gateway, Gateway, "gateway", "pass a safetrade.Gateway")
    _require_allowed(plan, decision)
    policy = retry or RetryPolicy()
    outcome_unknown = False
    last_error = ""
    order: OrderStatus | None = None
    for attempt in range(1, policy.attempts + 1):
        try:
            if order is None:
                send = (
                    gateway.ensure_submitted_unguarded
                    if outcome_unknown
                    else gateway.submit_unguarded
                )
                order = send(plan.entry)
            done = gateway.fetch_order(order.order_id, plan.entry.symbol)
        except ExchangeUnavailable as exc:
            outcome_unknown = True
            last_error = f"{exc.what}: {exc.exchange_message}"
            log.error("entry attempt %d: %s", attempt, last_error)
        except ExchangeError as exc:
            if order is None:
                # a first send refused, or a re-send refused after the look-up found nothing
                # (a failed look-up is ExchangeUnavailable: still unknown, handled above)
                log.error("entry refused: %s", exc)
                return EntryResult(fill=None, order=order, error=str(exc))
            # KuCoin accepted the entry; failing to *read* it (its "order not exist." race
            # right after create, 400007, 900001 "system busy") says nothing about the fill
            outcome_unknown = True
            last_error = f"entry {order.order_id} accepted but unreadable: {exc}"
            log.error("entry attempt %d: %s", attempt, last_error)
        else:
            if done.filled > 0 and done.average is not None:
                return EntryResult(fill=Fill.from_order(done, plan.side), order=done)
            if done.status in ("closed", "canceled"):
                return EntryResult(fill=None, order=done, error=f"entry {done.status} unfilled")
            last_error = f"entry {done.order_id} not filled yet ({done.status})"
        if attempt < policy.attempts:
            sleep(policy.delay(attempt))
    if order is not None:
        return _cancel_rest(gateway, plan, order, last_error)
    # nothing was acknowledged; the order may still exist under its clientOid
    try:
        found = gateway.find(plan.entry)
    except ExchangeError:
        found = None
    if found is not None:
        return _cancel_rest(gateway, plan, found, last_error)
    return EntryResult(
        fill=None, order=None, error=last_error or "entry outcome unknown", outcome_unknown=True
    )


def _require_allowed(plan: TradePlan, decision: object) -> None:
    # checked before anything reaches the exchange; `decision` is typed loosely here because
    # an untyped caller may still pass None or a bool where the Decision belongs
    if not isinstance(decision, Decision):
        raise DecisionMismatch(
            f"execute_entry needs the guard's Decision, got {type(decision).__name__} {decision!r}",
            why="only a Decision from safetrade.check proves the pre-trade controls passed",
            fix="pass decision = safetrade.check(plan, account, limits) for this plan",
        )
    if not decision.covers(plan):
        made_for, given = decision.plan.entry.client_oid, plan.entry.client_oid
        raise DecisionMismatch(
            f"the decision was made for entry {made_for}, not for entry {given}"
            if made_for != given
            else f"plan {given} was changed after the guard's decision was made",
            why="the pre-trade checks passed or refused a different plan (or one since changed); "
            "nothing was sent",
            fix="run safetrade.check on this plan and pass that decision",
        )
    decision.raise_if_refused()


def _cancel_rest(gateway: Gateway, plan: TradePlan, order: OrderStatus, reason: str) -> EntryResult:
    # an entry left resting could fill later with nobody protecting it: cancel, then re-read
    try:
        gateway.cancel(order.order_id, plan.entry.symbol)
        done = gateway.fetch_order(order.order_id, plan.entry.symbol)
    except ExchangeError as exc:
        return _from_fills(gateway, plan, order, f"{reason}; {exc}")
    if done.filled > 0 and done.average is not None:
        return EntryResult(fill=Fill.from_order(done, plan.side), order=done)
    return EntryResult(fill=None, order=done, error=f"{reason}; cancelled unfilled")


def _from_fills(gateway: Gateway, plan: TradePlan, order: OrderStatus, reason: str) -> EntryResult:
    """The order cannot be read: its fills (trades) still say what is held and must be protected.

    Only when the fills cannot be read either is the outcome unknown (the caller reconciles).
    """
    try:
        amount, average = gateway.order_fills(order.order_id, plan.entry.symbol)
    except ExchangeError as exc:
        return EntryResult(fill=None, order=order, error=f"{reason}; {exc}", outcome_unknown=True)
    if amount > 0 and average is not None:
        log.error("entry %s read from its fills: %s filled", order.order_id, amount)
        fill = Fill(
            symbol=plan.entry.symbol,
            side=plan.side,
            amount=amount,
            average_price=average,
            order_id=order.order_id,
        )
        return EntryResult(fill=fill, order=order, error=reason)
    # no fill recorded yet: it may still fill, so the outcome stays unknown
    return EntryResult(
        fill=None, order=order, error=f"{reason}; no fill found", outcome_unknown=True
    )
