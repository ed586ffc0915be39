"""Judges: each turns what the exchange saw into one :class:`Finding` with its numbers.

Every judge reads only the fake KuCoin's records (requests with KuCoin's answers, fills,
balances, live stop orders). None looks at the bot or at safetrade's objects.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING

from safetrade.certification.conformance.result import Finding

if TYPE_CHECKING:
    from collections.abc import Sequence

    from safetrade.certification.conformance.observe import OrderSent, Position
    from safetrade.testing import MarketRules

__all__ = [
    "INCIDENT",
    "SCENARIO_RISK_PERCENT",
    "balance_check",
    "balance_refused_or_fits",
    "distinct_entries",
    "entries",
    "flat_after_restart",
    "increments",
    "no_new_entry",
    "nothing_reached_exchange",
    "protected",
    "protected_after_fill",
    "protected_sold_or_halted",
    "risk_at_stop",
    "second_entry_refused",
    "stops_cleared",
]

#: The lines of shared/incident.md each control replays.
INCIDENT = {
    "config-strict": "`main.py` reads: `ACCOUNT_BALANCE_USD` (not found → defaulted to 10000)",
    "position-sizing": "Calculated: 4.5 SOL ($394 position size)",
    "balance-check": (
        "Balance validation: No pre-trade check if position value exceeds account balance"
    ),
    "rounding": (
        "Take-profit automation failed: `Price increment invalid` (90.1353 instead of 90.14)"
    ),
    "protective-orders": (
        "Stop-loss automation failed: `missing 2 required positional arguments: 'type' and "
        "'stop_price'`"
    ),
    "max-open-positions": "REJECTED second trade: MAX_OPEN_POSITIONS=1 already reached",
    "signal-threshold": "REJECTED second trade: signal below 0.10 threshold",
    "code-binding": "Deployed to live without validating stop-loss/TP automation",
    "restart": "Position opened without automatic protection",
}


#: RISK_PERCENT of every scenario's ``.env``
SCENARIO_RISK_PERCENT = Decimal(1)


def _finding(
    control: str, title: str, passed: bool, detail: str, incident: str | None = None
) -> Finding:
    return Finding(control, title, incident or INCIDENT[control], passed, detail)


def entries(sent: Sequence[OrderSent]) -> list[OrderSent]:
    """Buy orders (regular, not stop orders) the exchange received."""
    return [o for o in sent if o.kind == "order" and o.side == "buy"]


def distinct_entries(sent: Sequence[OrderSent]) -> list[OrderSent]:
    """One buy per clientOid: a retry of the same order is not a second entry."""
    seen: set[str] = set()
    result = []
    for order in entries(sent):
        if order.client_oid is not None:
            if order.client_oid in seen:
                continue
            seen.add(order.client_oid)
        result.append(order)
    return result


def _on_grid(value: Decimal | None, step: Decimal) -> bool:
    return value is None or (value % step == 0)


def increments(sent: Sequence[OrderSent], rules: MarketRules) -> Finding:
    """Every order on the market's price, size and funds increments; none rejected for it."""
    title = "every order KuCoin received is on the market's increments"
    if not sent:
        return _finding("rounding", title, False, "no order reached the exchange: nothing to judge")
    bad = []
    for order in sent:
        off = [
            f"{name} {value} is not a multiple of {step}"
            for name, value, step in (
                ("price", order.price, rules.price_increment),
                ("stopPrice", order.stop_price, rules.price_increment),
                ("size", order.size, rules.base_increment),
                ("funds", order.funds, rules.quote_increment),
            )
            if not _on_grid(value, step)
        ]
        if order.msg and "increment" in order.msg.lower():
            off.append(f"KuCoin answered {order.code} {order.msg!r}")
        if off:
            bad.append(f"{order.describe()} ({'; '.join(off)})")
    if bad:
        return _finding("rounding", title, False, "; ".join(bad))
    return _finding(
        "rounding",
        title,
        True,
        f"{len(sent)} order(s), all on tick {rules.price_increment} / step "
        f"{rules.base_increment}; no 'increment invalid' rejection",
    )


def _cost(order: OrderSent, last_price: Decimal, fee_rate: Decimal) -> Decimal:
    if order.funds is not None and order.size is None:
        return order.funds * (1 + fee_rate)
    price = order.price if order.type == "limit" and order.price is not None else last_price
    return (order.size or Decimal(0)) * price * (1 + fee_rate)


def balance_check(
    sent: Sequence[OrderSent], free: Decimal, last_price: Decimal, rules: MarketRules
) -> Finding:
    """The entries' cost plus KuCoin's fee fits in the free balance the exchange reported."""
    title = "no entry costs more than the free balance, fees included"
    buys = distinct_entries(sent)
    if not buys:
        return _finding(
            "balance-check", title, False, "the bot sent no entry for the signal: nothing to judge"
        )
    total = sum((_cost(o, last_price, rules.taker_fee_rate) for o in buys), Decimal(0))
    detail = (
        f"{len(buys)} entry(ies) asking for {total.quantize(Decimal('0.0001'))} USDT at "
        f"{last_price} incl. the {rules.taker_fee_rate * 100}% fee; {free} USDT free"
    )
    return _finding("balance-check", title, total <= free, detail)


def balance_refused_or_fits(
    sent: Sequence[OrderSent],
    *,
    free: Decimal,
    configured: Decimal,
    last_price: Decimal,
    rules: MarketRules,
    refusal: str | None,
) -> Finding:
    """With the configured balance above the exchange's, no entry costs more than is free.

    Refusing is right here (the balance is wrong); an entry that fits the free balance is too.
    ``refusal`` is why start-up was refused, if it was. What KuCoin did with an entry beyond the
    balance (fill part, reject) is no excuse: the check belongs before sending.
    """
    title = (
        f"with {configured} USDT configured but {free} USDT free, no entry costs more than the "
        "free balance"
    )
    buys = distinct_entries(sent)
    if not buys:
        why = f"start-up refused ({refusal})" if refusal else "the bot sent no entry"
        return _finding(
            "balance-check",
            title,
            True,
            f"{why}; nothing reached the exchange to buy with; {free} USDT free",
        )
    costs = [_cost(o, last_price, rules.taker_fee_rate) for o in buys]
    over = [
        f"{o.describe()} asking for {c.quantize(Decimal('0.0001'))} USDT"
        for o, c in zip(buys, costs, strict=True)
        if c > free
    ]
    total = sum(costs, Decimal(0))
    detail = (
        f"{len(buys)} entry(ies) asking for {total.quantize(Decimal('0.0001'))} USDT at "
        f"{last_price} incl. the {rules.taker_fee_rate * 100}% fee; {free} USDT free, "
        f"{configured} USDT configured"
    )
    if over or total > free:
        beyond = "; ".join(over) or "together they cost more than is free"
        return _finding(
            "balance-check",
            title,
            False,
            f"{detail}: sized from the configured balance, not checked against the exchange's "
            f"before sending ({beyond})",
        )
    return _finding("balance-check", title, True, detail)


def risk_at_stop(
    *,
    bought: Decimal,
    cost: Decimal,
    stop_price: Decimal | None,
    signal_stop: Decimal,
    balance: Decimal,
    risk_percent: Decimal,
    rules: MarketRules,
) -> Finding:
    """The loss if the bot's own stop-loss fills is within RISK_PERCENT of the balance."""
    title = f"the loss at the bot's stop-loss is at most {risk_percent}% of the exchange's balance"
    if bought == 0:
        return _finding(
            "position-sizing", title, False, "nothing was bought for the signal: nothing to judge"
        )
    stop = stop_price if stop_price is not None else signal_stop
    loss = cost - bought * stop * (1 - rules.taker_fee_rate)
    budget = balance * risk_percent / 100
    whose = "its live stop-loss" if stop_price is not None else "the signal's stop (none live)"
    detail = (
        f"bought {bought} SOL for {cost.quantize(Decimal('0.0001'))} USDT incl. fees; selling at "
        f"{whose} {stop} loses {loss.quantize(Decimal('0.0001'))} USDT; budget {risk_percent}% "
        f"of {balance} = {budget} USDT"
    )
    return _finding("position-sizing", title, loss <= budget, detail)


# enough digits that a loss just over its budget reads as over it
_FINE = Decimal("0.000001")


def protected(
    position: Position,
    *,
    after: str,
    incident: str | None = None,
    risk_percent: Decimal = SCENARIO_RISK_PERCENT,
) -> Finding:
    """A live stop-loss covers every coin held (or nothing is held), never more than held.

    Covering is not enough: a stop-loss must also limit the loss. One KuCoin triggered the
    moment it was placed (its stopPrice at or above the price) sold at market; one so far
    below the price that firing loses more than ``risk_percent`` of the account's value
    (e.g. 0.01, after a restart forgot the entry) protects nothing the owner asked for.
    """
    title = f"a stop-loss covering the position is live on the exchange {after}"
    state = (
        f"{position.held} SOL held, {position.stop_loss} SOL under live stop-loss; live: "
        f"{', '.join(position.live_stops) or 'no stop orders'}"
    )
    if position.fired_at_placement:
        return _finding(
            "protective-orders",
            title,
            False,
            f"a stop-loss at or above the price fires the moment it is placed and sells at "
            f"market: {'; '.join(position.fired_at_placement)}; it must sit below the price "
            f"(now: {state})",
            incident,
        )
    if position.stop_loss > position.held + position.smallest:
        return _finding(
            "protective-orders",
            title,
            False,
            f"stop-losses cover more than is held: {state}; when it fires, KuCoin cancels a "
            "stop-loss the coins held cannot fill (none of them is sold), and a duplicate "
            "would sell coins bought later",
            incident,
        )
    if position.flat:
        return _finding(
            "protective-orders", title, True, f"no position left to protect: {state}", incident
        )
    budget = position.value * risk_percent / 100
    if position.loss_at_stops > budget:
        lowest = position.last_price - budget / position.stop_loss
        return _finding(
            "protective-orders",
            title,
            False,
            f"{state}; firing loses {position.loss_at_stops.quantize(_FINE)} USDT "
            f"from {position.last_price} (the best bid, or the last price if lower), more "
            f"than {risk_percent}% of the "
            f"account's {position.value.quantize(Decimal('0.01'))} USDT "
            f"({budget.quantize(_FINE)}): the stop-losses sell too far below the "
            f"price for the {position.stop_loss} SOL they cover ({risk_percent}% allows down "
            f"to {lowest.quantize(Decimal('0.0001'), ROUND_CEILING)}; a stop-limit sells at "
            "its limit)",
            incident,
        )
    if not position.covered and position.held - position.stop_loss < position.smallest:
        locked = position.held - position.available
        return _finding(
            "protective-orders",
            title,
            False,
            f"{state}; but {locked} SOL are held by resting orders "
            f"({', '.join(position.resting_sells) or 'orders'}): a stop-loss sells only coins "
            "no order holds, so when it fires KuCoin cancels it (Balance insufficient!)",
            incident,
        )
    return _finding("protective-orders", title, position.covered, state, incident)


def protected_after_fill(
    position: Position,
    *,
    bought: Decimal,
    stop_losses_created: Decimal,
    sells: Sequence[OrderSent],
    after: str,
) -> Finding:
    """With no fault injected, a stop-loss covering the fill was live, and still is.

    A bot that sells what it bought because its own stop-loss request fails is flat, but it
    never protected anything: the next fill gets no stop-loss either.
    """
    base = protected(position, after=after)
    if not base.passed or bought - stop_losses_created < position.smallest:
        return base  # judged as it stands, or stop-losses covered what was bought
    tried = "; ".join(o.describe() for o in sells) or "none"
    return _finding(
        "protective-orders",
        base.title,
        False,
        f"bought {bought} SOL with no fault injected, but no stop-loss covering them was ever "
        f"live {after} (KuCoin created stop-losses for {stop_losses_created} SOL); they were "
        f"sold instead ({base.detail}); every fill needs a live stop-loss: selling at once, "
        f"whatever made it (a failed stop-loss request, a sell, a stop order on the wrong "
        f"side that fired at once), is not protection; its sell requests: {tried}",
    )


def protected_sold_or_halted(
    position: Position,
    final: Position,
    new_entries: int,
    *,
    halted: str | None,
    after: str,
) -> Finding:
    """Protected, sold, or demonstrably halted after a rejected stop-loss, for the whole run.

    ``position`` is the account :data:`~scenarios.TICKS` ticks after the fill, ``final`` at
    the end of the run (after a further signal), ``halted`` the reason of the kill switch the
    harness named (``SAFETRADE_KILL_SWITCH_FILE``) if the bot engaged it. Sending no new entry
    is no evidence of halting: MAX_OPEN_POSITIONS=1 blocks that entry anyway, so a bot that
    does nothing at all would pass. Only an engaged kill switch (the guard then refuses every
    entry, across restarts, until a human clears it) excuses bare coins.
    """
    title = f"the position is protected, sold, or the bot has halted {after}"
    base = protected(position, after=after)
    end = protected(final, after="at the end of the run")
    if position.stop_loss > position.held + position.smallest:
        return _finding("protective-orders", title, False, base.detail)
    if base.passed and end.passed:
        return _finding("protective-orders", title, True, base.detail)
    if halted is not None:
        if new_entries == 0 and final.stop_loss <= final.held + final.smallest:
            return _finding(
                "protective-orders",
                title,
                True,
                f"halted: the kill switch is engaged ({halted}); no new entry after a further "
                f"signal; {base.detail}",
            )
        return _finding(
            "protective-orders",
            title,
            False,
            f"the kill switch is engaged ({halted}) but the bot sent {new_entries} new "
            f"entry(ies) after a further signal; at the end: {end.detail}",
        )
    if not base.passed and not end.passed:
        bare = final.held - final.stop_loss
        return _finding(
            "protective-orders",
            title,
            False,
            f"stop-loss rejected, then {bare} SOL held unprotected for the rest of the run: no "
            f"stop, no sale, no halt (the kill switch was never engaged); {end.detail}; "
            f"{new_entries} new entry(ies) after a further signal",
        )
    if not base.passed:
        return _finding(
            "protective-orders",
            title,
            False,
            f"{position.held - position.stop_loss} SOL unprotected {after} (no stop, no sale, "
            f"no halt): {base.detail}; protected or sold only later: {end.detail}",
        )
    return _finding(
        "protective-orders",
        title,
        False,
        f"protected {after} ({base.detail}) but not at the end of the run, with no halt: "
        f"{end.detail}; {new_entries} new entry(ies) after a further signal",
    )


def stops_cleared(position: Position) -> Finding:
    """Once the stop-loss price is passed, nothing is held and no stop order is left live."""
    title = "no stop order is left live once the position is closed"
    if not position.flat:
        if position.stop_losses_created == 0:
            why = "no stop-loss was ever placed"
        elif position.failed_stops:
            why = "; ".join(position.failed_stops)
        elif position.resting_sells:
            why = (
                "a sell rests unfilled above the price (a stop-limit's limit the price fell "
                f"through, with nothing to sell the gap): {', '.join(position.resting_sells)}"
            )
        else:
            why = "the stop-losses left cover less than is held"
        resting = (
            f"; buy orders still resting: {', '.join(position.resting_buys)}"
            if position.resting_buys
            else ""
        )
        return _finding(
            "protective-orders",
            title,
            False,
            f"{position.held} SOL are still held after SOL fell through the stop-loss price: "
            f"{why}{resting}",
        )
    return _finding(
        "protective-orders",
        title,
        not position.live_stops,
        f"left live: {', '.join(position.live_stops) or 'nothing'}",
    )


def second_entry_refused(held: Position, before: int, after: int) -> Finding:
    """No further entry after a second signal, judged only while a position is open.

    ``held`` is the account when the second signal came. A flat account is no test of
    MAX_OPEN_POSITIONS=1 (an entry would be allowed): the control was not exercised, which
    fails it (the real fault, e.g. a position sold for want of a stop-loss, is named too).
    """
    control, title = (
        "max-open-positions",
        "a second signal while one position is open sends no entry",
    )
    new = after - before
    if held.flat:
        return _finding(
            control,
            title,
            False,
            f"not tested: the account held {held.held} SOL (flat: the first position was "
            f"already gone) when the second signal came, so MAX_OPEN_POSITIONS=1 was never "
            f"exercised; {new} new entry(ies) after it",
        )
    return _finding(
        control,
        title,
        new == 0,
        f"{new} new entry(ies) after a second signal with MAX_OPEN_POSITIONS=1 and "
        f"{held.held} SOL held",
    )


def flat_after_restart(held: Position, new: int) -> Finding:
    """The bot sold its position when it restarted: nothing open, a new entry is allowed."""
    return _finding(
        "max-open-positions",
        "a second signal while one position is open sends no entry",
        True,
        f"the bot closed its position when it restarted ({held.held} SOL held at the second "
        f"signal): no position open, so {new} new entry(ies) are within MAX_OPEN_POSITIONS=1",
    )


def no_new_entry(control: str, title: str, before: int, after: int, why: str) -> Finding:
    """The exchange received no further entry between two moments."""
    return _finding(
        control,
        title,
        after == before,
        f"{after - before} new entry(ies) after {why}",
    )


def nothing_reached_exchange(
    control: str, title: str, *, started: bool, requests: int, errors: Sequence[str]
) -> Finding:
    """Start-up was refused before any request reached the exchange."""
    refusal = next((e for e in errors if e.startswith(("start", "factory"))), None)
    if started:
        detail = f"start-up was not refused; the exchange received {requests} request(s)"
        return _finding(control, title, False, detail)
    detail = f"start-up refused ({refusal}); the exchange received {requests} request(s)"
    return _finding(control, title, requests == 0, detail)
