"""Protect a filled position, verify it on the exchange, or get out: never silently bare.

On Feb 6 the entry filled, the stop-loss call raised, the take-profit was rejected, the bot
logged a WARNING and a human placed both orders by hand. :meth:`Protector.protect` instead
ends in exactly one of three typed outcomes:

* :class:`Protected`: the stop-loss (and take-profit, if asked for) were placed **and read
  back from the exchange** with the right side, amount and trigger;
* :class:`Flattened`: protection failed after bounded retries, so any protective orders were
  cancelled and the position was sold at market, and the sale was confirmed;
* :class:`Halted`: flattening failed too; the kill switch is engaged (the guard refuses every
  entry until a human clears it) and a critical alert was raised.

Every failure is logged at ERROR with the exchange's own message and passed to the alert hook.

Retries: a failure whose outcome is unknown (timeout, 5xx, 429, lost response) is retried
with the *same* clientOid through :meth:`Gateway.ensure_submitted_unguarded`, so an order the
exchange did accept is found, not sent twice. A rejection is retried with *corrected* parameters:
markets are reloaded (increments can change) and the order is rebuilt with a new clientOid.
Waiting between attempts goes through the injected ``sleep`` so tests never sleep.

KuCoin holds no funds for untriggered stop orders, so the stop-loss and the take-profit both
cover the whole position. When one fires the other would still be live and could sell coins
the bot no longer holds (or holds for another reason); :meth:`Protector.watch` is the
one-cancels-the-other step a bot calls on every loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial
from typing import TypeVar

import attrs

from safetrade._validate import require_instance
from safetrade.alerts import Alert, AlertHook, log_alert
from safetrade.builder import (
    OrderIntent,
    OrderPurpose,
    flatten_order,
    new_client_oid,
    stop_loss_order,
    take_profit_order,
)
from safetrade.errors import (
    ExchangeError,
    ExchangeUnavailable,
    InvalidValue,
    OrderBuildError,
    RoundingError,
    SafetradeError,
)
from safetrade.fills import Fill
from safetrade.gateway import Gateway, OrderStatus
from safetrade.killswitch import KillSwitch
from safetrade.market import MarketSpec
from safetrade.recovery import covered_by_purpose
from safetrade.retry import RetryPolicy
from safetrade.rounder import PositionSide, floor_to_step

__all__ = [
    "Flattened",
    "Halted",
    "Outcome",
    "Protected",
    "Protector",
    "WatchResult",
]

log = logging.getLogger("safetrade.protector")

#: Most market sells one flatten sends while each one fills part of the rest.
_MAX_SELL_ROUNDS = 10
_T = TypeVar("_T")


@attrs.frozen(kw_only=True)
class Protected:
    """Stop-loss (and take-profit) placed and confirmed on the exchange."""

    fill: Fill
    stop_loss: OrderStatus
    take_profit: OrderStatus | None
    events: tuple[str, ...]


@attrs.frozen(kw_only=True)
class Flattened:
    """Protection failed, so the position was closed.

    ``exit_order`` is ``None`` when the exchange had already closed the position (e.g. a stop
    that fired at once) or only dust below the market's minimum remained (``residual``).
    """

    fill: Fill
    reason: str
    exit_order: OrderStatus | None
    residual: Decimal
    events: tuple[str, ...]


@attrs.frozen(kw_only=True)
class Halted:
    """Neither protection nor flattening worked; the kill switch is engaged."""

    fill: Fill
    reason: str
    events: tuple[str, ...]


Outcome = Protected | Flattened | Halted


@attrs.frozen(kw_only=True)
class WatchResult:
    """What :meth:`Protector.watch` found and did.

    Attributes:
        fired: The leg that executed (the coins were sold), if one did.
        cancelled: The legs cancelled because the other one fired (one-cancels-the-other).
        still_protected: Whether ``position`` is protected on the exchange right now.
        vanished: A leg that is gone although the coins are still held: cancelled by hand or
            by KuCoin at trigger (e.g. below minFunds), not filled.
        position: What to watch from now on: the same position, the re-protected one, or
            None once it is closed (sold, flattened, or halted for a human). A position whose
            leg fired while the other leg could not be cancelled is returned too, so the next
            ``watch()`` cancels it (left live, it would sell the next position's coins).
    """

    fired: str | None
    cancelled: tuple[str, ...]
    still_protected: bool
    vanished: str | None = None
    position: Protected | None = None


class Protector:
    """Places, verifies and, failing that, unwinds protection for filled positions.

    Args:
        gateway: The exchange.
        kill_switch: Engaged when a position can be neither protected nor flattened.
        alert: Called for every failure (defaults to logging).
        sleep: Waits between retries (``time.sleep`` by default; tests inject a recorder).
        retry: How many attempts per step and how long to wait.
        new_oid: Makes client order ids (injected for deterministic tests).
    """

    def __init__(
        self,
        gateway: Gateway,
        *,
        kill_switch: KillSwitch,
        alert: AlertHook = log_alert,
        sleep: Callable[[float], None] = time.sleep,
        retry: RetryPolicy | None = None,
        new_oid: Callable[[OrderPurpose], str] = new_client_oid,
    ) -> None:
        self._gateway = gateway
        self._kill_switch = kill_switch
        self._alert = alert
        self._sleep = sleep
        self._retry = retry or RetryPolicy()
        self._new_oid = new_oid

    # -- public ------------------------------------------------------------------------

    def protect(
        self, fill: Fill, *, stop_price: Decimal, take_profit_price: Decimal | None = None
    ) -> Outcome:
        """Protect ``fill`` with a stop-loss (and take-profit) and confirm both on the exchange.

        Args:
            fill: The executed entry (its filled amount sizes the protection).
            stop_price: Stop-loss trigger (rounded toward the entry if off-grid).
            take_profit_price: Optional take-profit trigger (rounded toward the entry).

        Returns:
            :class:`Protected`, :class:`Flattened` or :class:`Halted`. Never raises for
            exchange trouble: every failure ends in one of these outcomes.
        """
        fill = require_instance(fill, Fill, "fill", "pass entry.fill from safetrade.execute_entry")
        outcome = self._protect(fill, stop_price=stop_price, take_profit_price=take_profit_price)
        return self._journaled(outcome)

    def _journaled(self, outcome: Outcome) -> Outcome:
        """``outcome``, written to the paper journal first on the paper venue.

        Every protection outcome is paper evidence, whichever path made it (the Trader, or a
        bot calling protect / reconcile / watch itself): protect() and reconcile's own halt.
        """
        paper = getattr(self._gateway, "paper", None)
        if paper is not None:
            kind = type(outcome).__name__
            try:
                paper.journal("outcome", outcome.fill.symbol, kind, {"outcome": str(outcome)})
            except Exception:  # the outcome stands; the journal's own check names a gap
                log.exception("the paper journal could not record a %s", kind)
        return outcome

    def _protect(
        self, fill: Fill, *, stop_price: Decimal, take_profit_price: Decimal | None
    ) -> Outcome:
        events: list[str] = []
        # every clientOid this call sends, acknowledged or not: a stop KuCoin accepted whose
        # answer was lost is live all the same, and must be cancelled if the position is sold.
        # It is this call's own: never another position's orders
        sent: list[str] = []
        market = self._with_retries(
            "load-market", fill.symbol, events, lambda: self._gateway.load_market(fill.symbol)
        )
        if market is None:
            return self._flatten(
                None, fill, "could not load the market", [], sent=sent, events=events
            )
        wanted = [(OrderPurpose.STOP_LOSS, stop_price)]
        if take_profit_price is not None:
            wanted.append((OrderPurpose.TAKE_PROFIT, take_profit_price))
        placed: list[tuple[OrderIntent, OrderStatus]] = []
        for purpose, price in wanted:
            result = self._place(market, fill, purpose, price, sent=sent, events=events)
            if isinstance(result, str):
                return self._flatten(market, fill, result, placed, sent=sent, events=events)
            market, intent, status = result
            placed.append((intent, status))
        confirmed = self._verify(fill, placed, events)
        if isinstance(confirmed, str):
            return self._flatten(market, fill, confirmed, placed, sent=sent, events=events)
        log.info("position %s %s protected: %s", fill.amount, fill.symbol, "; ".join(events))
        return Protected(
            fill=fill,
            stop_loss=confirmed[0],
            take_profit=confirmed[1] if len(confirmed) > 1 else None,
            events=tuple(events),
        )

    def watch(self, protected: Protected) -> WatchResult:
        """One-cancels-the-other, decided from what the account holds, not from order states.

        Call it on every loop of the bot while the position is open. A leg missing from the
        open stop orders has either executed (the coins are gone: cancel the other leg) or
        been cancelled without selling (by the owner in the app, or by KuCoin at trigger): then
        the coins are still held and are protected again, never left bare. With both legs
        live, fewer coins than the stop-loss sells (some sold by hand) are protected afresh.
        KuCoin's status of a fired stop read through ccxt says "canceled", so it is not used.
        """
        fill = protected.fill
        legs = [("stop-loss", protected.stop_loss)]
        if protected.take_profit is not None:
            legs.append(("take-profit", protected.take_profit))
        try:
            listed = self._gateway.open_stop_orders(fill.symbol)
        except ExchangeError as exc:
            self._raise_alert(
                "error", "watch-failed", fill.symbol, "could not list stop orders", exc
            )
            return WatchResult(fired=None, cancelled=(), still_protected=False, position=protected)
        open_ids = {o.order_id for o in listed}
        gone = [name for name, order in legs if order.order_id not in open_ids]
        # the balance is read even when both legs are listed: coins sold by hand leave a
        # stop-loss bigger than what is held, which KuCoin cancels at trigger, selling nothing
        try:
            market = self._gateway.load_market(fill.symbol)
            held = self._gateway.total_balance(market.base)
        except ExchangeError as exc:
            if not gone:  # both legs are listed; what they cover is told on the next look
                return WatchResult(
                    fired=None, cancelled=(), still_protected=True, position=protected
                )
            self._raise_alert(
                "error",
                "watch-failed",
                fill.symbol,
                f"{gone[0]} is gone but the balance could not be read to tell whether it fired",
                exc,
            )
            return WatchResult(fired=None, cancelled=(), still_protected=False, position=protected)
        # coins under another position's live stop-loss are that position's (two positions on
        # one symbol, MAX_OPEN_POSITIONS > 1): counted as this one's, its fired stop would look
        # cancelled and the other position's coins would be protected again, or sold
        own_ids = {order.order_id for _name, order in legs}
        loss = protected.stop_loss
        others = sum(
            (
                o.amount or Decimal(0)
                for o in listed
                if o.order_id not in own_ids and o.side == loss.side and o.trigger == loss.trigger
            ),
            Decimal(0),
        )
        held = max(held - others, Decimal(0))
        if not gone:
            covers = loss.amount or fill.amount
            # with another position's stop-loss listed the shortfall is not this position's to
            # judge: that position's own leg may have fired (its stop-loss not yet cancelled),
            # which its own watch() settles first (the Trader's sync then cancels what covers
            # more than is held)
            if held >= covers or others > 0:
                return WatchResult(
                    fired=None, cancelled=(), still_protected=True, position=protected
                )
            return self._shrunk(protected, legs=legs, market=market, held=held, covers=covers)
        if held < market.smallest_amount:
            return self._one_cancels_other(protected, legs, open_ids, gone[0])
        return self._reprotect(
            protected, legs=legs, open_ids=open_ids, gone=gone, market=market, held=held
        )

    def _shrunk(
        self,
        protected: Protected,
        *,
        legs: list[tuple[str, OrderStatus]],
        market: MarketSpec,
        held: Decimal,
        covers: Decimal,
    ) -> WatchResult:
        """Both legs are live but fewer coins are held than the stop-loss sells."""
        fill = protected.fill
        nothing_left = held < market.smallest_amount
        self._raise_alert(
            "error",
            "position-shrank",
            fill.symbol,
            f"the stop-loss of {covers} {fill.symbol} covers more than the {held} "
            f"{market.base} held (coins sold by hand, or by another order): KuCoin would cancel "
            "it at trigger for want of coins; "
            + ("cancelling its orders, nothing is left" if nothing_left else "protecting the rest"),
        )
        events: list[str] = []
        cancelled = tuple(
            name for name, order in legs if self._best_effort_cancel(fill.symbol, order, events)
        )
        left_live = len(cancelled) < len(legs)
        if nothing_left or left_live:
            # a leg left live must be cancelled on the next look: keep watching it
            return WatchResult(
                fired=None,
                cancelled=cancelled,
                still_protected=False,
                position=protected if left_live else None,
            )
        position = self._protect_held(protected, market, held, with_target=True)
        return WatchResult(
            fired=None,
            cancelled=cancelled,
            still_protected=position is not None,
            position=position,
        )

    def _protect_held(
        self, protected: Protected, market: MarketSpec, held: Decimal, *, with_target: bool
    ) -> Protected | None:
        """``held`` coins of ``protected``'s position protected anew, at its levels."""
        again = attrs.evolve(protected.fill, amount=floor_to_step(held, market.amount_increment))
        take_profit = protected.take_profit
        outcome = self.protect(
            again,
            stop_price=protected.stop_loss.trigger_price or Decimal(0),
            take_profit_price=None
            if take_profit is None or not with_target
            else take_profit.trigger_price,
        )
        return outcome if isinstance(outcome, Protected) else None

    def _one_cancels_other(
        self,
        protected: Protected,
        legs: list[tuple[str, OrderStatus]],
        open_ids: set[str],
        fired: str,
    ) -> WatchResult:
        symbol = protected.fill.symbol
        cancelled = []
        left_live = False
        for name, order in legs:
            if order.order_id in open_ids:
                try:
                    self._gateway.cancel(order.order_id, symbol, stop=True)
                    cancelled.append(name)
                except ExchangeError as exc:
                    left_live = True
                    self._raise_alert(
                        "error",
                        "oco-cancel-failed",
                        symbol,
                        f"{fired} fired but the {name} could not be cancelled",
                        exc,
                    )
        log.info("%s fired on %s; cancelled %s", fired, symbol, cancelled or "nothing")
        # a leg left live would sell the next position's coins: keep watching, so the next
        # watch() tries the cancel again
        return WatchResult(
            fired=fired,
            cancelled=tuple(cancelled),
            still_protected=False,
            position=protected if left_live else None,
        )

    def _reprotect(
        self,
        protected: Protected,
        *,
        legs: list[tuple[str, OrderStatus]],
        open_ids: set[str],
        gone: list[str],
        market: MarketSpec,
        held: Decimal,
    ) -> WatchResult:
        fill = protected.fill
        vanished = gone[0]
        legs_gone = " and ".join(gone)
        partly = held < fill.amount
        # the target was reached and sold only part: a new one at its price would fire at once
        target_reached = partly and "take-profit" in gone
        if partly:
            # KuCoin sold part of the position (a leg that triggered on a thin book filled in
            # part), or the owner sold some by hand: a stop for the whole position would be
            # cancelled at trigger for want of coins, so the rest is protected on its own
            event, what = (
                "protective-order-partly-filled",
                f"the {legs_gone} of {fill.amount} {fill.symbol} is gone and only {held} "
                f"{market.base} is still held: it filled in part (or coins were sold by hand); "
                f"protecting the {held} left"
                + (
                    " with a stop-loss only (its target was reached: sell the rest or set a "
                    "new target)"
                    if target_reached
                    else ""
                ),
            )
        else:
            event, what = (
                "protective-order-vanished",
                f"the {legs_gone} of {fill.amount} {fill.symbol} is gone but {held} "
                f"{market.base} is still held: it was cancelled (by hand, or by KuCoin at "
                "trigger), not filled; protecting the position again",
            )
        self._raise_alert("error", event, fill.symbol, what)
        stop_covers = protected.stop_loss.amount or fill.amount
        if "stop-loss" not in gone and protected.take_profit is not None and stop_covers <= held:
            # the stop-loss still covers everything: only the take-profit is lost
            kept = attrs.evolve(protected, take_profit=None)
            return WatchResult(
                fired=None, cancelled=(), still_protected=True, vanished=vanished, position=kept
            )
        events: list[str] = []
        for _name, order in legs:
            if order.order_id in open_ids:
                self._best_effort_cancel(fill.symbol, order, events)
        position = self._protect_held(protected, market, held, with_target=not target_reached)
        return WatchResult(
            fired=None,
            cancelled=(),
            still_protected=position is not None,
            vanished=vanished,
            position=position,
        )

    def reconcile(
        self,
        symbol: str,
        *,
        stop_price: Decimal,
        take_profit_price: Decimal | None = None,
    ) -> Outcome | None:
        """After a restart: protect (or flatten) a long position the exchange shows unprotected.

        The account's free base balance is taken as the bot's position (a dedicated trading
        account is assumed). If the untriggered stop orders do not cover it, they are
        cancelled and the whole position is protected afresh, relative to the last price.

        Returns:
            ``None`` when there is no position or it is fully protected, else the outcome.
        """
        events: list[str] = []
        state = self._with_retries("reconcile-read", symbol, events, lambda: self._read(symbol))
        if state is None:
            fill = Fill(
                symbol=symbol, side=PositionSide.LONG, amount=Decimal(0), average_price=Decimal(1)
            )
            # how much is held is exactly what could not be read: the alert must not say 0
            return self._journaled(
                self._halt(
                    fill, "could not read the account to reconcile", events, amount_known=False
                )
            )
        market, held, stops, last = state
        sells = [o for o in stops if o.side == "sell"]
        if held < market.smallest_amount:
            # nothing held: a stop left live (its position closed while the bot was down)
            # would sell the next position's coins
            for order in sells:
                self._raise_alert(
                    "error",
                    "orphan-cancelled",
                    symbol,
                    f"no {market.base} held: cancelling the {order.trigger} stop "
                    f"{order.order_id} left from a closed position",
                )
                self._best_effort_cancel(symbol, order, events)
            return None
        # what each order is for comes from its clientOid (safetrade's own) or, for one
        # placed by hand, from KuCoin's trigger direction (safetrade.recovery)
        covered = covered_by_purpose(stops)
        losses, targets = covered[OrderPurpose.STOP_LOSS], covered[OrderPurpose.TAKE_PROFIT]
        exact = losses == held and targets in (
            held,
            Decimal(0) if take_profit_price is None else held,
        )
        if exact:
            return None
        self._raise_alert(
            "error",
            "unprotected-position",
            symbol,
            f"{held} {market.base} held but stop-losses cover {losses} and "
            f"take-profits {targets}; protecting it afresh",
        )
        for order in stops:
            if order.side == "sell":
                self._best_effort_cancel(symbol, order, events)
        fill = Fill(
            symbol=symbol,
            side=PositionSide.LONG,
            amount=floor_to_step(held, market.amount_increment),
            average_price=last,
        )
        return self.protect(fill, stop_price=stop_price, take_profit_price=take_profit_price)

    # -- steps -------------------------------------------------------------------------

    def _read(self, symbol: str) -> tuple[MarketSpec, Decimal, list[OrderStatus], Decimal]:
        market = self._gateway.load_market(symbol)
        return (
            market,
            self._gateway.free_balance(market.base),
            self._gateway.open_stop_orders(symbol),
            self._gateway.last_price(symbol),
        )

    def _build(
        self, market: MarketSpec, fill: Fill, purpose: OrderPurpose, price: Decimal
    ) -> OrderIntent:
        oid = self._new_oid(purpose)
        amount = floor_to_step(fill.amount, market.amount_increment)
        if purpose is OrderPurpose.STOP_LOSS:
            return stop_loss_order(
                market,
                side=fill.side,
                amount=amount,
                stop_price=price,
                entry_price=fill.average_price,
                client_oid=oid,
            )
        return take_profit_order(
            market,
            side=fill.side,
            amount=amount,
            target_price=price,
            entry_price=fill.average_price,
            client_oid=oid,
        )

    def _place(
        self,
        market: MarketSpec,
        fill: Fill,
        purpose: OrderPurpose,
        price: Decimal,
        *,
        sent: list[str],
        events: list[str],
    ) -> tuple[MarketSpec, OrderIntent, OrderStatus] | str:
        name = purpose.value
        try:
            intent = self._build(market, fill, purpose, price)
        except (OrderBuildError, RoundingError, InvalidValue) as exc:
            self._raise_alert("error", f"{name}-invalid", fill.symbol, f"cannot build {name}", exc)
            events.append(f"{name} invalid: {exc}")
            return f"{name} cannot be built: {exc}"
        outcome_unknown = False
        last_error = "no attempt made"
        for attempt in range(1, self._retry.attempts + 1):
            try:
                send = (
                    self._gateway.ensure_submitted_unguarded
                    if outcome_unknown
                    else self._gateway.submit_unguarded
                )
                if intent.client_oid not in sent:
                    sent.append(intent.client_oid)
                status = send(intent)
            except ExchangeUnavailable as exc:
                outcome_unknown = True
                last_error = f"{exc.what}: {exc.exchange_message}"
                self._failed(f"{name}-unavailable", fill.symbol, attempt, exc, events)
            except ExchangeError as exc:
                last_error = f"{exc.what}: {exc.exchange_message}"
                self._failed(f"{name}-rejected", fill.symbol, attempt, exc, events)
                if attempt == self._retry.attempts:
                    break
                # corrected retry: the market's rules may have changed under us; rebuild from
                # fresh data with a new clientOid (the rejected one is spent: a failed look-up
                # of one that may be live is ExchangeUnavailable, retried above with it)
                try:
                    market = self._gateway.load_market(fill.symbol, reload=True)
                    intent = self._build(market, fill, purpose, price)
                    outcome_unknown = False
                except SafetradeError as rebuild_exc:
                    events.append(f"{name} rebuild failed: {rebuild_exc}")
            else:
                events.append(f"{name} placed as {status.order_id} (attempt {attempt})")
                return market, intent, status
            if attempt < self._retry.attempts:
                self._sleep(self._retry.delay(attempt))
        return f"{name} not placed after {self._retry.attempts} attempts ({last_error})"

    def _verify(
        self, fill: Fill, placed: Sequence[tuple[OrderIntent, OrderStatus]], events: list[str]
    ) -> list[OrderStatus] | str:
        def read_back() -> list[OrderStatus] | str:
            on_exchange = self._gateway.open_stop_orders(fill.symbol)
            confirmed, problems = [], []
            for intent, status in placed:
                match = next(
                    (
                        o
                        for o in on_exchange
                        if o.order_id == status.order_id or o.client_oid == intent.client_oid
                    ),
                    None,
                )
                problem = _mismatch(intent, match)
                if problem:
                    problems.append(problem)
                elif match is not None:
                    confirmed.append(match)
            return "; ".join(problems) if problems else confirmed

        result = self._with_retries("read-back", fill.symbol, events, read_back)
        if result is None:
            return "protective orders could not be read back from the exchange"
        if isinstance(result, str):
            self._raise_alert("error", "read-back-mismatch", fill.symbol, result)
            events.append(f"read-back mismatch: {result}")
            return f"read-back found: {result}"
        events.append("read back: " + ", ".join(f"{o.order_id} {o.trigger}" for o in result))
        return result

    def _flatten(
        self,
        market: MarketSpec | None,
        fill: Fill,
        reason: str,
        placed: Sequence[tuple[OrderIntent, OrderStatus]],
        *,
        sent: Sequence[str],
        events: list[str],
    ) -> Outcome:
        self._raise_alert(
            "error",
            "protection-failed",
            fill.symbol,
            f"could not protect {fill.amount} {fill.symbol}: {reason}; flattening at market",
        )
        orphans = self._cancel_protection(fill.symbol, placed, sent, events)
        if market is None:
            market = self._with_retries(
                "load-market",
                fill.symbol,
                events,
                lambda: self._gateway.load_market(fill.symbol, reload=True),
            )
            if market is None:
                return self._halt(fill, f"{reason}; and the market could not be loaded", events)
        sold = self._sell_all(market, fill, reason, events)
        if isinstance(sold, str):
            return self._halt(fill, f"{reason}; {sold}", events)
        if orphans:
            # the coins are sold, but a live stop would sell the next position's coins
            return self._halt(
                fill,
                f"{reason}; sold, but protective order(s) {', '.join(orphans)} could not be "
                "cancelled and may still be live",
                events,
            )
        return sold

    def _cancel_protection(
        self,
        symbol: str,
        placed: Sequence[tuple[OrderIntent, OrderStatus]],
        sent: Sequence[str],
        events: list[str],
    ) -> list[str]:
        """Cancel every protective order of this position, by id and by the clientOids ``sent``.

        Returns:
            The clientOids that could not be cancelled (they may still be live).
        """
        orphans = []
        by_id = {intent.client_oid for intent, _status in placed}
        for intent, status in placed:
            # a stop left behind could later sell coins the bot no longer holds
            if not self._with_retries("cancel", symbol, events, partial(
                self._cancel, symbol, status.order_id
            )):  # fmt: skip
                orphans.append(intent.client_oid)
        for oid in sent:
            if oid in by_id:
                continue
            # sent, never acknowledged: it may be live under its clientOid
            if not self._with_retries(
                "cancel", symbol, events, partial(self._cancel_oid, symbol, oid)
            ):
                orphans.append(oid)
        return orphans

    def _cancel(self, symbol: str, order_id: str) -> bool:
        self._gateway.cancel(order_id, symbol, stop=True)
        return True

    def _cancel_oid(self, symbol: str, client_oid: str) -> bool:
        self._gateway.cancel_by_client_oid(client_oid, symbol, stop=True)
        return True

    def _price_or_none(self, symbol: str) -> Decimal | None:
        """The last price, to tell dust by its value; None (judge by size only) if unreadable."""
        try:
            return self._gateway.last_price(symbol)
        except ExchangeError:
            return None

    def _sell_all(
        self, market: MarketSpec, fill: Fill, reason: str, events: list[str]
    ) -> Flattened | str:
        """Sell at market until what is left is below the market's minimum (dust).

        Returns:
            The :class:`Flattened` outcome, or why the position could not be sold (in full).
        """
        intent: OrderIntent | None = None
        last: OrderStatus | None = None
        failures = rounds = 0
        # failures are bounded by the retry policy; sales that made progress (partial fills)
        # by _MAX_SELL_ROUNDS, so a thin book is sold down to dust rather than given up on
        while failures < self._retry.attempts and rounds < _MAX_SELL_ROUNDS:
            try:
                if intent is None:
                    held = self._gateway.free_balance(market.base)
                    amount = min(fill.amount, held)
                    if not market.sellable(amount, self._price_or_none(fill.symbol)):
                        events.append(f"nothing (more) to sell: {held} {market.base} free")
                        closed = "" if last is not None else "; position already closed or dust"
                        return Flattened(
                            fill=fill,
                            reason=reason + closed,
                            exit_order=last,
                            residual=amount,
                            events=tuple(events),
                        )
                    oid = self._new_oid(OrderPurpose.FLATTEN)
                    intent = flatten_order(market, side=fill.side, amount=amount, client_oid=oid)
                    order = self._gateway.submit_unguarded(intent)
                else:
                    order = self._gateway.ensure_submitted_unguarded(intent)
                done = self._gateway.fetch_order(order.order_id, fill.symbol)
                if done.filled <= 0:
                    raise ExchangeError(
                        f"flatten order {order.order_id} did not fill ({done.status})"
                    )
                events.append(f"flattened {done.filled} at {done.average} ({done.order_id})")
                last, residual = done, intent.amount - done.filled
                if residual < market.smallest_amount:
                    log.error("position %s %s flattened: %s", fill.amount, fill.symbol, reason)
                    return Flattened(
                        fill=fill,
                        reason=reason,
                        exit_order=done,
                        residual=residual,
                        events=tuple(events),
                    )
                # a partial fill leaves coins bare: sell the rest with a new order
                self._raise_alert(
                    "error",
                    "flatten-partial",
                    fill.symbol,
                    f"flatten sold {done.filled} of {intent.amount}; selling the {residual} left",
                )
                intent = None
                rounds += 1
                continue
            except ExchangeError as exc:
                failures += 1
                self._failed("flatten-failed", fill.symbol, failures, exc, events)
            except (OrderBuildError, RoundingError, InvalidValue) as exc:
                events.append(f"flatten order invalid: {exc}")
                break
            if failures < self._retry.attempts:
                self._sleep(self._retry.delay(failures))
        if last is not None:
            return f"flattening sold only part of it ({last.filled} in the last order)"
        return "flattening failed too"

    def _halt(
        self, fill: Fill, reason: str, events: list[str], *, amount_known: bool = True
    ) -> Halted:
        self._kill_switch.engage(f"{fill.symbol}: {reason}")
        unsaved = self._kill_switch.write_error
        amount = (
            f"{fill.amount} {fill.symbol}"
            if amount_known
            else f"an unknown amount of {fill.symbol}"
        )
        self._raise_alert(
            "critical",
            "halted",
            fill.symbol,
            f"{amount} may be UNPROTECTED: {reason}. Trading halted; check "
            "the exchange and clear the kill switch by hand"
            + (f". {unsaved}: a restart would NOT be halted" if unsaved else ""),
        )
        events.append(f"halted: {reason}")
        return Halted(fill=fill, reason=reason, events=tuple(events))

    # -- helpers -----------------------------------------------------------------------

    def _with_retries(
        self, step: str, symbol: str, events: list[str], fn: Callable[[], _T]
    ) -> _T | None:
        for attempt in range(1, self._retry.attempts + 1):
            try:
                return fn()
            except ExchangeError as exc:
                self._failed(f"{step}-failed", symbol, attempt, exc, events)
            if attempt < self._retry.attempts:
                self._sleep(self._retry.delay(attempt))
        return None

    def _best_effort_cancel(self, symbol: str, order: OrderStatus, events: list[str]) -> bool:
        """Cancel ``order``; alert (and say False) if it could not be."""
        try:
            self._gateway.cancel(order.order_id, symbol, stop=True)
        except ExchangeError as exc:
            self._raise_alert(
                "error", "cancel-failed", symbol, f"could not cancel {order.order_id}", exc
            )
            return False
        events.append(f"cancelled {order.order_id}")
        return True

    def _failed(
        self, event: str, symbol: str, attempt: int, exc: ExchangeError, events: list[str]
    ) -> None:
        events.append(f"{event} (attempt {attempt}): {exc.exchange_message or exc.what}")
        self._raise_alert("error", event, symbol, f"attempt {attempt}: {exc.what}", exc)

    def _raise_alert(
        self,
        level: str,
        event: str,
        symbol: str,
        message: str,
        exc: SafetradeError | None = None,
    ) -> None:
        exchange_message = getattr(exc, "exchange_message", None) or (str(exc) if exc else None)
        text = f"{message} — {exchange_message}" if exchange_message else message
        log.log(logging.CRITICAL if level == "critical" else logging.ERROR, "%s: %s", event, text)
        self._alert(
            Alert(
                level=level,
                event=event,
                message=message,
                symbol=symbol,
                exchange_message=exchange_message,
            )
        )


def _mismatch(intent: OrderIntent, found: OrderStatus | None) -> str | None:
    if found is None:
        return f"{intent.purpose.value} {intent.client_oid} is not on the exchange"
    problems = []
    if found.side != intent.side:
        problems.append(f"side {found.side} != {intent.side}")
    if found.amount is not None and found.amount != intent.amount:
        problems.append(f"amount {found.amount} != {intent.amount}")
    if found.trigger_price is not None and found.trigger_price != intent.trigger_price:
        problems.append(f"trigger {found.trigger_price} != {intent.trigger_price}")
    if found.trigger is not None and found.trigger != intent.trigger:
        problems.append(f"stop kind {found.trigger} != {intent.trigger}")
    if found.amount is None or found.trigger_price is None:
        problems.append("exchange did not report amount and trigger price")
    if problems:
        return f"{intent.purpose.value} {found.order_id}: " + ", ".join(problems)
    return None
