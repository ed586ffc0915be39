"""How the fake matches orders against its book, through the real ccxt client.

Each test pins one rule where a fake more forgiving than KuCoin would certify a bot that fails
live: a limit order takes only what the book holds up to its limit, a resting order is not
filled by a trade at exactly its price, funds that cannot be held are refused, and a triggered
stop the balance cannot pay for is cancelled rather than partly filled.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from safetrade.testing import BookShape, FakeKucoin

# five asks 87.41 .. 87.45 and five bids 87.31 .. 87.27 around a last price of 87.36, 1 SOL each
THIN = BookShape(spread_ticks=10, levels=5, level_size=Decimal(1))


def _fake(**balances: str) -> tuple[FakeKucoin, Any]:
    ex = FakeKucoin(balances=balances, prices={"SOL/USDT": "87.36"}, book=THIN)
    client = ex.ccxt_client()
    client.load_markets()
    return ex, client


def test_a_marketable_limit_buy_takes_the_book_up_to_its_limit_and_rests_the_rest() -> None:
    ex, client = _fake(USDT="10000")
    placed = client.create_order("SOL/USDT", "limit", "buy", 10, 90)
    order = client.fetch_order(placed["id"])
    assert order["status"] == "open"
    assert Decimal(str(order["filled"])) == 5
    # at the asks' own prices, not at the last price and not at the limit
    fills = ex.fills
    assert [f.price for f in fills] == [
        Decimal(p) for p in ("87.41", "87.42", "87.43", "87.44", "87.45")
    ]
    assert {f.liquidity for f in fills} == {"taker"}
    # the resting 5 hold their limit value plus the fee reserve
    assert ex.balance("USDT").holds == Decimal(5) * 90 * Decimal("1.001")


def test_a_marketable_limit_sell_never_fills_more_than_the_bids_hold() -> None:
    ex, client = _fake(SOL="100")
    placed = client.create_order("SOL/USDT", "limit", "sell", 100, 85)
    order = client.fetch_order(placed["id"])
    assert (order["status"], Decimal(str(order["filled"]))) == ("open", 5)
    assert min(f.price for f in ex.fills) == Decimal("87.27")
    assert ex.balance("SOL").holds == 95


def test_ioc_keeps_what_filled_and_cancels_the_rest_fok_fills_all_or_nothing() -> None:
    ex, client = _fake(USDT="10000")
    ioc = client.fetch_order(
        client.create_order("SOL/USDT", "limit", "buy", 8, 90, {"timeInForce": "IOC"})["id"]
    )
    assert (ioc["status"], Decimal(str(ioc["filled"]))) == ("canceled", 5)
    ex.set_price("SOL/USDT", "87.36")
    fills_before = len(ex.fills)
    fok = client.fetch_order(
        client.create_order("SOL/USDT", "limit", "buy", 8, 90, {"timeInForce": "FOK"})["id"]
    )
    assert (fok["status"], Decimal(str(fok["filled"]))) == ("canceled", 0)
    assert len(ex.fills) == fills_before
    assert ex.balance("USDT").holds == 0


def test_a_post_only_order_that_would_take_is_cancelled_without_filling() -> None:
    ex, client = _fake(USDT="10000")
    order = client.fetch_order(
        client.create_order("SOL/USDT", "limit", "buy", 1, 87.5, {"postOnly": True})["id"]
    )
    assert (order["status"], order["filled"]) == ("canceled", 0.0)
    assert ex.fills == ()


def test_a_limit_inside_the_spread_rests_instead_of_filling_at_the_last_price() -> None:
    ex, client = _fake(USDT="10000")
    order = client.fetch_order(client.create_order("SOL/USDT", "limit", "buy", 1, 87.38)["id"])
    assert (order["status"], order["filled"]) == ("open", 0.0)
    assert ex.fills == ()


def test_a_resting_order_is_not_filled_by_a_trade_at_its_price_only_beyond_it() -> None:
    ex, client = _fake(SOL="2")
    take_profit = client.create_order("SOL/USDT", "limit", "sell", 2, 90)
    ex.set_price("SOL/USDT", "90")
    assert client.fetch_order(take_profit["id"])["status"] == "open"
    ex.set_price("SOL/USDT", "90.01")
    filled = client.fetch_order(take_profit["id"])
    assert (filled["status"], filled["filled"], filled["average"]) == ("closed", 2.0, 90.0)
    assert [f.liquidity for f in ex.fills] == ["maker"]


def test_a_market_buy_by_funds_beyond_the_balance_is_refused_untouched() -> None:
    ex = FakeKucoin(balances={"USDT": "123"}, prices={"SOL/USDT": "87.36"})
    client = ex.ccxt_client()
    with pytest.raises(ccxt.InsufficientFunds, match="Balance insufficient"):
        client.create_order("SOL/USDT", "market", "buy", None, None, {"cost": 400})
    assert ex.orders == {}
    assert ex.balance("USDT").available == 123
    assert ex.balance("SOL").available == 0


@pytest.mark.parametrize("amount", [{"size": "1"}, {"funds": "100"}], ids=["by size", "by funds"])
def test_a_triggered_stop_buy_the_balance_cannot_pay_for_is_cancelled_not_partly_filled(
    amount: dict[str, str],
) -> None:
    ex = FakeKucoin(balances={"USDT": "50"}, prices={"SOL/USDT": "87.36"})
    client = ex.ccxt_client()
    client.privatePostStopOrder(
        {"clientOid": "breakout-1", "symbol": "SOL-USDT", "side": "buy", "type": "market",
         "stop": "entry", "stopPrice": "90", **amount}
    )  # fmt: skip
    ex.set_price("SOL/USDT", "90")
    (stop,) = ex.stop_orders.values()
    assert stop.status == "TRIGGERED"
    assert stop.failure == "Balance insufficient!"
    assert ex.fills == ()
    assert ex.balance("USDT").available == 50
    assert ex.orders[stop.order_id].cancel_exist
