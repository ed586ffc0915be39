"""KuCoin's order rules, enforced by the fake with KuCoin's codes, seen through the real ccxt.

ccxt truncates amounts and rounds prices before sending, so off-grid values are sent raw through
ccxt's implicit API methods (``privatePostOrders``/``privatePostStopOrder``), which still sign
and parse errors exactly like ``create_order``.
"""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from safetrade.testing import FakeKucoin, FillPolicy, MarketRules

_oids = itertools.count(1)


def client_oid() -> str:
    return f"rules-oid-{next(_oids)}"


def raw_order(client: Any, **fields: str | None) -> Any:
    body = {"clientOid": client_oid(), "side": "buy", "symbol": "SOL-USDT", "type": "limit"}
    body.update(fields)
    return client.privatePostOrders(body)


def raw_stop(client: Any, **fields: str | None) -> Any:
    body = {"clientOid": client_oid(), "side": "sell", "symbol": "SOL-USDT", "type": "market"}
    body.update(fields)
    return client.privatePostStopOrder(body)


def raised(excinfo: pytest.ExceptionInfo[Exception], cls: type[Exception], text: str) -> None:
    assert type(excinfo.value) is cls, type(excinfo.value)
    assert text in str(excinfo.value)


class TestRegularOrders:
    def test_price_off_tick_is_bad_request(self, client: Any, ex: FakeKucoin) -> None:
        """A price off the priceIncrement grid -> BadRequest 'Price increment invalid.'."""
        with pytest.raises(ccxt.BaseError) as excinfo:
            raw_order(client, size="1", price="87.365")
        raised(excinfo, ccxt.BadRequest, "Price increment invalid.")
        assert ex.orders == {}

    def test_size_off_increment_is_invalid_order(self, client: Any) -> None:
        """A size that is not a multiple of baseIncrement -> InvalidOrder."""
        with pytest.raises(ccxt.BaseError) as excinfo:
            raw_order(client, size="1.00005", price="90")
        raised(excinfo, ccxt.InvalidOrder, "Order size increment invalid.")

    def test_size_below_min_is_invalid_order(self, client: Any) -> None:
        """A size below baseMinSize -> InvalidOrder (ccxt does not check this locally)."""
        with pytest.raises(ccxt.BaseError) as excinfo:
            client.create_order("SOL/USDT", "limit", "buy", 0.005, 90)
        raised(excinfo, ccxt.InvalidOrder, "Order size below the minimum requirement.")

    def test_notional_below_min_funds_is_600100(self) -> None:
        """A limit order worth less than minFunds -> 600100 -> ccxt InsufficientFunds."""
        big_min = MarketRules("ETH-USDT", min_funds=Decimal(10), base_min_size=Decimal("0.001"))
        with FakeKucoin(markets=[big_min], balances={"USDT": Decimal(1000)}) as ex:
            client = ex.ccxt_client()
            client.load_markets()
            with pytest.raises(ccxt.BaseError) as excinfo:
                client.create_order("ETH/USDT", "limit", "buy", 0.002, 3000)
            raised(excinfo, ccxt.InsufficientFunds, "Funds below the minimum requirement.")
            client.create_order("ETH/USDT", "limit", "buy", 0.004, 3000)
            assert len(ex.orders) == 1

    def test_market_funds_below_min_is_invalid_order(self, client: Any) -> None:
        """A market buy by funds below minFunds -> 600101 -> InvalidOrder."""
        with pytest.raises(ccxt.BaseError) as excinfo:
            raw_order(client, type="market", funds="0.05")
        raised(excinfo, ccxt.InvalidOrder, "The order funds should more then 0.1 USDT.")

    def test_funds_off_increment_is_bad_request(self, client: Any) -> None:
        """Market funds off the quoteIncrement grid -> BadRequest."""
        with pytest.raises(ccxt.BaseError) as excinfo:
            raw_order(client, type="market", funds="10.0000001")
        raised(excinfo, ccxt.BadRequest, "Funds increment invalid.")

    def test_market_buy_beyond_the_balance_fills_what_it_pays_for_and_cancels_the_rest(
        self, client: Any, ex: FakeKucoin
    ) -> None:
        """KuCoin's way (and Feb 6's: 1.417 of 4.5 SOL): the default, not a 200004."""
        order = client.create_order("SOL/USDT", "market", "buy", 10)
        done = client.fetch_order(order["id"], "SOL/USDT")
        assert Decimal(str(done["filled"])) == Decimal("9.9900")  # 1000 / (100 x 1.001), floored
        assert done["status"] == "canceled"  # the unfilled rest, as KuCoin reports it
        assert ex.balance("SOL").available == Decimal("9.9900")
        assert ex.balance("USDT").available < Decimal("0.1")

    def test_balance_insufficient_when_strict(self) -> None:
        """FillPolicy.strict_balance(): a market buy the balance cannot pay -> 200004."""
        with FakeKucoin(
            balances={"USDT": Decimal(1000)},
            prices={"SOL/USDT": Decimal(100)},
            fill_policy=FillPolicy.strict_balance(),
        ) as strict:
            client = strict.ccxt_client()
            with pytest.raises(ccxt.BaseError) as excinfo:
                client.create_order("SOL/USDT", "market", "buy", 10)
            raised(excinfo, ccxt.InsufficientFunds, "Balance insufficient!")
            assert strict.balance("USDT").available == Decimal(1000)
            assert strict.fills == ()

    def test_limit_buy_beyond_balance_is_rejected(self, client: Any) -> None:
        """A resting limit buy whose hold exceeds the available balance -> InsufficientFunds."""
        with pytest.raises(ccxt.BaseError) as excinfo:
            client.create_order("SOL/USDT", "limit", "buy", 11, 95)
        raised(excinfo, ccxt.InsufficientFunds, "Balance insufficient!")

    def test_unknown_symbol_is_bad_symbol(self, client: Any) -> None:
        """An unknown symbol sent raw -> 'Unsupported trading pair.' -> BadSymbol."""
        with pytest.raises(ccxt.BaseError) as excinfo:
            raw_order(client, symbol="DOGE-USDT", size="10", price="0.1")
        raised(excinfo, ccxt.BadSymbol, "Unsupported trading pair.")

    def test_limit_with_null_price_is_bad_request(self, client: Any) -> None:
        """ccxt sends a limit order without price as "price": null -> BadRequest."""
        with pytest.raises(ccxt.BaseError) as excinfo:
            client.create_order("SOL/USDT", "limit", "buy", 1, None)
        raised(excinfo, ccxt.BadRequest, "price is required")
        assert ex_body(client)["price"] is None

    def test_price_protection_band(self, client: Any) -> None:
        """A limit buy more than priceLimitRate above the last price -> BadRequest."""
        with pytest.raises(ccxt.BaseError) as excinfo:
            client.create_order("SOL/USDT", "limit", "buy", 1, 111)
        raised(excinfo, ccxt.BadRequest, "price not in the given range!")

    def test_market_order_without_price_is_rejected(self, client: Any) -> None:
        """A market order on a symbol that has no price yet -> BadRequest."""
        with pytest.raises(ccxt.BaseError) as excinfo:
            client.create_order("BTC/USDT", "market", "buy", 0.001)
        raised(excinfo, ccxt.BadRequest, "No market price for BTC-USDT")

    def test_fine_tick_market(self) -> None:
        """A market with priceIncrement 0.0001 accepts 4 decimals and rejects 5."""
        xrp = MarketRules(
            "XRP-USDT",
            price_increment=Decimal("0.0001"),
            base_increment=Decimal("0.1"),
            base_min_size=Decimal(1),
        )
        with FakeKucoin(markets=[xrp], balances={"USDT": Decimal(100)}) as ex:
            client = ex.ccxt_client()
            client.load_markets()
            assert client.market("XRP/USDT")["precision"]["price"] == 0.0001
            client.create_order("XRP/USDT", "limit", "buy", 10, 0.5123)
            with pytest.raises(ccxt.BaseError) as excinfo:
                raw_order(client, symbol="XRP-USDT", size="10", price="0.51234")
            raised(excinfo, ccxt.BadRequest, "Price increment invalid.")
            assert [o.price for o in ex.orders.values()] == [Decimal("0.5123")]


def ex_body(client: Any) -> Any:
    """The JSON body ccxt sent last (ccxt keeps it in last_request_body)."""
    return json.loads(client.last_request_body)


class TestNotFound:
    def test_fetch_unknown_order(self, client: Any) -> None:
        """Fetching an unknown order id -> OrderNotFound."""
        with pytest.raises(ccxt.OrderNotFound, match=r"order not exist\."):
            client.fetch_order("5fa0c0de00000000000000ff", "SOL/USDT")

    def test_cancel_unknown_order(self, client: Any) -> None:
        """Cancelling an unknown order id -> OrderNotFound."""
        with pytest.raises(ccxt.OrderNotFound, match="Order not exist or not allow to be"):
            client.cancel_order("5fa0c0de00000000000000ff", "SOL/USDT")

    def test_cancel_filled_order(self, client: Any) -> None:
        """A filled order can no longer be cancelled -> OrderNotFound."""
        order = client.create_order("SOL/USDT", "market", "buy", 1)
        with pytest.raises(ccxt.OrderNotFound):
            client.cancel_order(order["id"], "SOL/USDT")

    def test_unknown_stop_order(self, client: Any) -> None:
        """Fetching or cancelling an unknown stop order -> OrderNotFound."""
        with pytest.raises(ccxt.OrderNotFound):
            client.fetch_order("vs8fake00000000000000099", "SOL/USDT", {"trigger": True})
        with pytest.raises(ccxt.OrderNotFound):
            client.cancel_order("vs8fake00000000000000099", "SOL/USDT", {"trigger": True})


class TestStopOrderParameters:
    def test_missing_stop_price(self, client: Any, ex: FakeKucoin) -> None:
        """A stop order without stopPrice -> BadRequest; nothing stored."""
        with pytest.raises(ccxt.BaseError) as excinfo:
            raw_stop(client, size="1")
        raised(excinfo, ccxt.BadRequest, "stopPrice is required")
        assert ex.stop_orders == {}

    def test_invalid_stop_kind(self, client: Any) -> None:
        """A stop order whose stop is neither loss nor entry -> BadRequest."""
        with pytest.raises(ccxt.BaseError) as excinfo:
            raw_stop(client, size="1", stopPrice="90", stop="sideways")
        raised(excinfo, ccxt.BadRequest, "stop must be loss or entry")

    def test_stop_price_off_tick(self, client: Any) -> None:
        """A stopPrice off the price grid -> BadRequest."""
        with pytest.raises(ccxt.BaseError) as excinfo:
            raw_stop(client, size="1", stopPrice="90.001")
        raised(excinfo, ccxt.BadRequest, "Price increment invalid.")

    def test_market_stop_needs_size_or_funds(self, client: Any) -> None:
        """A market stop order with neither size nor funds -> BadRequest."""
        with pytest.raises(ccxt.BaseError) as excinfo:
            raw_stop(client, stopPrice="90")
        raised(excinfo, ccxt.BadRequest, "exactly one of size or funds")

    def test_limit_stop_needs_price(self, client: Any) -> None:
        """A limit stop order without price -> BadRequest."""
        with pytest.raises(ccxt.BaseError) as excinfo:
            raw_stop(client, type="limit", size="1", stopPrice="90")
        raised(excinfo, ccxt.BadRequest, "price is required")


def test_a_market_sell_beyond_the_coins_held_is_refused_not_partly_filled(
    client: Any, ex: FakeKucoin
) -> None:
    """Only buys fill up to the balance: a fake that sold part of it would be more forgiving."""
    ex.set_balance("SOL", Decimal(1))
    with pytest.raises(ccxt.BaseError) as excinfo:
        client.create_order("SOL/USDT", "market", "sell", 2)
    raised(excinfo, ccxt.InsufficientFunds, "Balance insufficient!")
    assert ex.balance("SOL").available == Decimal(1)
    assert ex.fills == ()
