"""Then-steps of the shared features: what KuCoin received and holds, and what the bot decided."""

from __future__ import annotations

import json
from decimal import Decimal

from pytest_bdd import then

from features.steps.bot import Guarded
from features.steps.exchange import RawCall
from features.steps.helpers import (
    Startup,
    Trading,
    assert_protected,
    base_of,
    bodies,
    gateway_for,
    numbers_in,
    numbers_sent,
    order_requests,
    stop_orders,
)
from features.steps.types import parse
from safetrade.builder import entry_order
from safetrade.protector import Flattened, Halted, Protected
from safetrade.reference_bot.bot import TradeResult
from safetrade.rounder import PositionSide, round_amount
from safetrade.testing import FakeKucoin

# --------------------------------------------------------------------------- start-up


@then("start-up is refused")
def startup_refused(startup: Startup) -> None:
    assert startup.bot is None
    assert startup.error is not None


@then(parse('the refusal says "{text}"'))
def refusal_says(startup: Startup, text: str) -> None:
    assert startup.error is not None
    assert text in str(startup.error), str(startup.error)


@then("the bot never connected to the exchange")
def never_connected(startup: Startup, exchange: FakeKucoin) -> None:
    assert startup.gateway_factory_calls == 0
    assert exchange.requests == (), exchange.endpoints_called()


@then("the bot started and connected to the exchange once")
def started(startup: Startup) -> None:
    assert startup.error is None, str(startup.error)
    assert startup.bot is not None
    assert startup.gateway_factory_calls == 1


# --------------------------------------------------------------------------- trades and the guard


@then("the trade is refused before anything is sent")
def trade_refused(trade: TradeResult, exchange: FakeKucoin) -> None:
    assert not trade.sent
    assert trade.refusal
    assert order_requests(exchange) == []
    assert exchange.orders == {}
    assert exchange.stop_orders == {}


@then("nothing was sent to KuCoin for that trade")
def nothing_sent_for_trade(trade: TradeResult, exchange: FakeKucoin) -> None:
    """For a refusal while other positions exist: no request carried this trade's entry id."""
    assert not trade.sent
    assert trade.plan is not None, trade.refusal
    oid = trade.plan.entry.client_oid
    sent = [b for b in bodies(exchange, "create_order") if b.get("clientOid") == oid]
    assert sent == [], sent
    assert all(o.client_oid != oid for o in exchange.orders.values())


@then(parse('the trade refusal names "{text}"'))
def trade_refusal_names(trade: TradeResult, text: str) -> None:
    assert trade.refusal is not None
    assert text in trade.refusal, trade.refusal


@then(parse('the guard refused it by "{controls}"'))
def guard_refused_by(trade: TradeResult, controls: str) -> None:
    assert trade.decision is not None
    expected = tuple(c.strip() for c in controls.split(","))
    assert trade.decision.failed_controls == expected, trade.decision.reasons


@then("the position is protected on the exchange")
def position_protected(trade: TradeResult, exchange: FakeKucoin) -> None:
    assert isinstance(trade.outcome, Protected), trade.outcome
    assert_protected(trade.outcome, exchange)


@then(parse("the entry sent to KuCoin is worth at most {usdt:Dec} USDT"))
def entry_worth_at_most(exchange: FakeKucoin, usdt: Decimal) -> None:
    entries = [b for b in bodies(exchange, "create_order") if b["side"] == "buy"]
    assert len(entries) == 1, entries
    price = exchange.price(entries[0]["symbol"])
    assert price is not None
    assert Decimal(entries[0]["size"]) * price <= usdt


# --------------------------------------------------------------------------- raw ccxt calls


@then(parse('KuCoin rejects it with {code:Word} "{message}"'))
def kucoin_rejects(raw: RawCall, code: str, message: str) -> None:
    assert raw.error is not None, f"KuCoin accepted it: {raw.result}"
    text = str(raw.error)
    body = json.loads(text[text.index("{") :])
    assert (body["code"], body["msg"]) == (code, message), text


@then("nothing from it is on the exchange")
def nothing_on_exchange(exchange: FakeKucoin) -> None:
    assert exchange.orders == {}
    assert exchange.stop_orders == {}
    assert exchange.fills == ()


# --------------------------------------------------------------------------- sizing and protection


@then(parse("the trade refusal shows both {first:Dec} USDT and {second:Dec} USDT"))
def refusal_shows_both(trade: TradeResult, first: Decimal, second: Decimal) -> None:
    assert trade.refusal is not None
    shown = numbers_in(trade.refusal)
    assert {first, second} <= shown, trade.refusal


@then(parse("the bot sized the trade from the exchange's free balance of {usdt:Dec} USDT"))
def sized_from_exchange(trade: TradeResult, usdt: Decimal) -> None:
    assert trade.plan is not None, trade.refusal
    size = trade.plan.size
    assert size.balance_cap is None
    assert size.free_balance == usdt
    assert size.spendable == usdt


@then(parse("the trade risks at most {budget:Dec} USDT at the stop-loss"))
def risks_at_most(trade: TradeResult, exchange: FakeKucoin, budget: Decimal) -> None:
    assert trade.plan is not None, trade.refusal
    assert trade.plan.size.risk_budget == budget, trade.plan.size.explain()
    assert trade.plan.size.risk_amount <= budget, trade.plan.size.explain()
    # and from KuCoin's own records, not the plan: what the buy cost (fee included) minus what
    # the live stop-loss returns when it sells the position at its trigger, after the fee
    (buy,) = [o for o in exchange.orders.values() if o.side == "buy"]
    (loss,) = stop_orders(exchange, "loss", "NEW")
    assert loss.size == buy.deal_size, (loss, buy)
    paid = buy.deal_funds + (buy.fee if buy.fee_currency == "USDT" else Decimal(0))
    returned = loss.size * loss.stop_price * (1 - trade.plan.market.taker_fee)
    assert paid - returned <= budget, (paid, returned, budget)


@then(
    parse(
        'the {purpose} KuCoin received is a market sell stop order with stop "{kind}", '
        "stopPrice {price:Dec}, the filled size and a clientOid"
    )
)
def protective_request(
    trade: TradeResult, exchange: FakeKucoin, purpose: str, kind: str, price: Decimal
) -> None:
    assert isinstance(trade.outcome, Protected), trade.outcome
    sent = [b for b in bodies(exchange, "create_stop_order") if b.get("stop") == kind]
    live = {s.client_oid: s for s in stop_orders(exchange, kind, "NEW")}
    accepted = [b for b in sent if b.get("clientOid") in live]
    assert len(accepted) == 1, sent
    body = accepted[0]
    assert str(body["clientOid"]).startswith(f"st-{purpose}-"), body
    assert body["type"] == "market"
    assert body["side"] == "sell"
    assert body["symbol"] == trade.outcome.fill.symbol.replace("/", "-")
    assert Decimal(body["stopPrice"]) == price, body
    assert Decimal(body["size"]) == trade.outcome.fill.amount, body
    order = live[body["clientOid"]]
    assert (order.stop_price, order.size) == (price, trade.outcome.fill.amount)


@then(parse("no request KuCoin received carried the price {price:Dec}"))
def no_raw_price(exchange: FakeKucoin, price: Decimal) -> None:
    # the fake parses JSON numbers as Decimal: a price sent unquoted must be caught as well
    assert exchange.requests, "KuCoin received nothing to check"
    for request in exchange.requests:
        sent = numbers_sent(request.body) + numbers_sent(dict(request.query or {}))
        assert price not in sent, request


@then(parse("the entry size KuCoin received is a whole multiple of {step:Dec}"))
def entry_on_size_grid(exchange: FakeKucoin, step: Decimal) -> None:
    entries = [b for b in bodies(exchange, "create_order") if b["side"] == "buy"]
    assert len(entries) == 1, entries
    assert Decimal(entries[0]["size"]) % step == 0, entries[0]


@then(parse("the stop-loss on KuCoin triggers at {price:Dec}"))
def stop_loss_at(trade: TradeResult, exchange: FakeKucoin, price: Decimal) -> None:
    assert_protected(trade.outcome, exchange)  # type: ignore[arg-type]
    [stop] = stop_orders(exchange, "loss", "NEW")
    assert stop.stop_price == price, stop


@then(parse("the take-profit on KuCoin triggers at {price:Dec}"))
def take_profit_at(trade: TradeResult, exchange: FakeKucoin, price: Decimal) -> None:
    [target] = stop_orders(exchange, "entry", "NEW")
    assert target.stop_price == price, target


@then(parse('the owner was alerted with KuCoin\'s own message "{message}"'))
def alerted_with(trading: Trading, message: str) -> None:
    found = [a for a in trading.alerts if a.exchange_message and message in a.exchange_message]
    assert found, trading.alerts
    assert all(a.level in ("error", "critical") for a in found)


@then("the position was sold at market and no stop order is left on KuCoin")
def flattened(trade: TradeResult, exchange: FakeKucoin) -> None:
    outcome = trade.outcome
    assert isinstance(outcome, Flattened), outcome
    assert outcome.exit_order is not None
    assert outcome.exit_order.filled == outcome.fill.amount
    assert outcome.exit_order.side == "sell"
    assert exchange.balance(base_of(outcome.fill.symbol)).total == 0
    assert stop_orders(exchange, "loss", "NEW") == []
    assert stop_orders(exchange, "entry", "NEW") == []


@then("the position is never left bare")
def never_bare(trade: TradeResult, exchange: FakeKucoin, trading: Trading) -> None:
    outcome = trade.outcome
    assert outcome is not None, trade
    assert not isinstance(outcome, Halted), outcome
    if isinstance(outcome, Protected):
        assert_protected(outcome, exchange)
    else:
        held = exchange.balance(base_of(outcome.fill.symbol)).total
        assert held == 0, f"{held} left without a stop-loss"
    assert trading.kill_switch.reason is None


@then(parse("the bot ordered {amount:Dec} SOL, not {wrong:Dec} SOL"))
def ordered_amount(
    trade: TradeResult, exchange: FakeKucoin, amount: Decimal, wrong: Decimal
) -> None:
    entries = [b for b in bodies(exchange, "create_order") if b["side"] == "buy"]
    assert [Decimal(b["size"]) for b in entries] == [amount], entries
    assert amount != wrong


@then("the entry filled completely: KuCoin did not have to cut it down")
def entry_filled_completely(trade: TradeResult) -> None:
    assert trade.entry is not None
    assert trade.entry.fill is not None
    assert trade.plan is not None
    assert trade.entry.fill.amount == trade.plan.entry.amount


@then(parse("KuCoin filled only {amount:Dec} SOL of the {ordered:Dec} SOL ordered"))
def filled_partly(trade: TradeResult, amount: Decimal, ordered: Decimal) -> None:
    assert trade.plan is not None
    assert trade.plan.entry.amount == ordered
    assert trade.entry is not None
    assert trade.entry.fill is not None
    assert trade.entry.fill.amount == amount


@then(parse("the stop-loss and the take-profit each cover exactly {amount:Dec} SOL"))
def protection_covers(trade: TradeResult, exchange: FakeKucoin, amount: Decimal) -> None:
    assert_protected(trade.outcome, exchange)  # type: ignore[arg-type]
    sizes = [s.size for s in exchange.stop_orders.values() if s.status == "NEW"]
    assert sizes == [amount, amount], sizes


# --------------------------------------------------------------------------- plans and the guard


@then(parse('the guard refused the plan by "{controls}"'))
def plan_refused_by(guarded: Guarded, controls: str) -> None:
    expected = tuple(c.strip() for c in controls.split(","))
    assert guarded.decision.failed_controls == expected, guarded.decision.reasons


@then(parse("the refusal shows the order's cost {cost:Dec} USDT and the {free:Dec} USDT free"))
def plan_refusal_numbers(guarded: Guarded, cost: Decimal, free: Decimal) -> None:
    reasons = " ".join(guarded.decision.reasons)
    assert {cost, free} <= numbers_in(reasons), reasons


@then("nothing was sent to KuCoin")
def nothing_sent(guarded: Guarded, exchange: FakeKucoin) -> None:
    assert not guarded.sent
    assert order_requests(exchange) == []
    assert exchange.orders == {}


# --------------------------------------------------------------------------- rounding and minimums


@then(
    parse(
        "safetrade rounds {raw:Dec} down to {rounded:Dec} for {symbol:Word}, "
        "and KuCoin fills that order"
    )
)
def rounds_down_and_fills(
    exchange: FakeKucoin, raw: Decimal, rounded: Decimal, symbol: str
) -> None:
    gateway = gateway_for(exchange)
    market = gateway.load_market(symbol)
    assert round_amount(raw, market) == rounded
    last = exchange.price(symbol)
    assert last is not None
    intent = entry_order(
        market,
        side=PositionSide.LONG,
        amount=round_amount(raw, market),
        reference_price=last,
        client_oid="st-entry-rounded",
    )
    gateway.submit_unguarded(intent)
    [order] = exchange.orders.values()
    assert (order.size, order.deal_size) == (rounded, rounded), order
    assert exchange.balance(base_of(symbol)).available == rounded


@then(parse("the trade refusal names the minimum order value {minimum:Dec} USDT"))
def refusal_names_min_value(trade: TradeResult, minimum: Decimal) -> None:
    assert trade.refusal is not None
    assert "minimum order value" in trade.refusal, trade.refusal
    assert minimum in numbers_in(trade.refusal), trade.refusal


@then(parse("the entry sent to KuCoin costs at most {usdt:Dec} USDT including KuCoin's fee"))
def entry_cost_with_fee(exchange: FakeKucoin, usdt: Decimal) -> None:
    entries = [b for b in bodies(exchange, "create_order") if b["side"] == "buy"]
    assert len(entries) == 1, entries
    price = exchange.price(entries[0]["symbol"])
    assert price is not None
    buys = [f for f in exchange.fills if f.side == "buy"]
    assert buys, "the entry never filled"
    cost = sum((f.funds + f.fee for f in buys), Decimal(0))
    assert cost <= usdt, f"{entries[0]['size']} at {price} cost {cost} with fees"
