"""Restart recovery: what each protective order on the exchange is for, and which belong together.

One place for the rules the protector (``Protector.reconcile``) and the trader
(``Trader.sync``) apply after a restart. An order's purpose comes from its clientOid first:
safetrade names every order it sends (``st-stop-loss-…``, ``st-take-profit-…``, see
:func:`safetrade.new_client_oid`). Only an order placed by hand or by another tool (any other
clientOid) is read from KuCoin's trigger direction: for a long position's sell, ``loss`` (fires
at or below) is a stop-loss and ``entry`` (fires at or above) a take-profit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from safetrade.builder import OrderPurpose
from safetrade.gateway import OrderStatus
from safetrade.rounder import ceil_to_step, floor_to_step

if TYPE_CHECKING:
    from safetrade.protector import Protected

__all__ = ["covered_by_purpose", "describe", "match_positions", "purpose_of", "recovery_stop"]

_BY_PREFIX = {f"st-{p.value}-": p for p in OrderPurpose}
_BY_TRIGGER = {"loss": OrderPurpose.STOP_LOSS, "entry": OrderPurpose.TAKE_PROFIT}


def recovery_stop(last: Decimal, tick: Decimal, risk_percent: Decimal) -> tuple[Decimal, bool]:
    """The stop-loss for coins found bare: ``risk_percent`` below ``last``, on the tick grid.

    Rounded up, toward the price, so firing loses at most ``risk_percent``; but where the tick
    is coarser than that distance, rounding up lands on the price itself (a stop KuCoin fires
    at once, which the builder refuses, so the coins would be sold): the stop then goes one
    tick below the price. Never below one tick (100 % would put it at zero). Zero or less only
    when the price is one tick: no stop-loss exists below it.

    Returns:
        The stop price, and whether it is wider than ``risk_percent`` (one tick below).
    """
    stop = max(ceil_to_step(last * (1 - risk_percent / 100), tick), tick)
    if stop < last:
        return stop, False
    return floor_to_step(last, tick) - tick, True


def purpose_of(order: OrderStatus) -> OrderPurpose | None:
    """Stop-loss or take-profit for a sell stop of a long position; None for anything else."""
    if order.side != "sell":
        return None
    oid = order.client_oid or ""
    for prefix, purpose in _BY_PREFIX.items():
        if oid.startswith(prefix):
            return purpose if purpose in _BY_TRIGGER.values() else None
    return _BY_TRIGGER.get(order.trigger or "")


def covered_by_purpose(stops: Iterable[OrderStatus]) -> dict[OrderPurpose, Decimal]:
    """How much base the untriggered stop-losses and take-profits cover, each."""
    covered = {OrderPurpose.STOP_LOSS: Decimal(0), OrderPurpose.TAKE_PROFIT: Decimal(0)}
    for order in stops:
        purpose = purpose_of(order)
        if purpose is not None:
            covered[purpose] += order.amount or Decimal(0)
    return covered


Kept = tuple["Protected | OrderStatus", "OrderStatus | None"]


def match_positions(
    known: Sequence[Protected], stops: Sequence[OrderStatus], held: Decimal
) -> tuple[list[Kept], list[tuple[OrderStatus, str]], Decimal]:
    """Pair the exchange's protective orders into positions; the rest are orphans.

    Positions already watched keep their pairing while both their orders are listed. Other
    stop-losses pair with a take-profit of the same amount (the protector places both for the
    whole position); a stop-loss without one is a position with a stop-loss only. Take-profits
    left over have no stop-loss to pair with: orphans. If the stop-losses cover more than
    ``held``, positions are given up (stop-loss-only ones first: their take-profit fired) until
    they do not: their orders are orphans too.

    Returns:
        The kept positions (a known :class:`Protected`, or an adopted stop-loss with its
        take-profit or ``None``), the orphans with why, and the coins no stop-loss covers.
    """
    from safetrade.protector import Protected  # noqa: PLC0415 - the protector imports this module

    sells = {o.order_id: o for o in stops if purpose_of(o) is not None}
    kept: list[Kept] = []
    for position in known:
        legs = [position.stop_loss, position.take_profit]
        ids = [leg.order_id for leg in legs if leg is not None]
        if all(i in sells for i in ids):
            kept.append((position, None))
            for i in ids:
                del sells[i]
    targets = [o for o in sells.values() if purpose_of(o) is OrderPurpose.TAKE_PROFIT]
    for loss in (o for o in sells.values() if purpose_of(o) is OrderPurpose.STOP_LOSS):
        target = next((t for t in targets if t.amount == loss.amount), None)
        if target is not None:
            targets.remove(target)
        kept.append((loss, target))
    orphans = [(t, "a take-profit without a stop-loss: its position was closed") for t in targets]

    def amount(item: Kept) -> Decimal:
        first = item[0]
        order = first.stop_loss if isinstance(first, Protected) else first
        return order.amount or Decimal(0)

    covered = sum((amount(k) for k in kept), Decimal(0))
    for item in sorted(kept, key=lambda k: k[1] is not None or isinstance(k[0], Protected)):
        if covered <= held:
            break
        kept.remove(item)
        covered -= amount(item)
        first, target = item
        legs = (
            [first.stop_loss, first.take_profit]
            if isinstance(first, Protected)
            else [first, target]
        )
        why = f"stop orders cover more than the {held} held: its position was sold, all or part"
        orphans.extend((leg, why) for leg in legs if leg is not None)
    return kept, orphans, max(held - covered, Decimal(0))


def describe(order: OrderStatus) -> str:
    """``stop-loss ID (AMOUNT at PRICE)`` for messages."""
    purpose = purpose_of(order)
    kind = purpose.value if purpose is not None else "stop order"
    return f"{kind} {order.order_id} ({order.amount} at {order.trigger_price})"
