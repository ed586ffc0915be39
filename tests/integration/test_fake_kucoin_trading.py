"""Trading against the fake through the real ccxt client: fills, fees, holds, stops, HF mode."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from safetrade.testing import FakeKucoin, FillPolicy

FEE = Decimal("0.001")  # KuCoin's default taker/maker rate, charged in USDT


class TestLoadMarkets:
    def test_all_eight_calls_answered(self, ex: FakeKucoin) -> None:
        """With credentials and default options load_markets makes 8 calls, all answered."""
        client = ex.ccxt_client()
        markets = client.load_markets()
        assert ex.endpoints_called() == [
            "account_mode", "currencies", "symbols", "margin_symbols",
            "isolated_symbols", "all_tickers", "contracts", "hf_status",
        ]  # fmt: skip
        assert ex.requests[6].host == "api-futures.kucoin.com"
        assert (client.options["uta"], client.options["hf"]) == (False, False)
        sol = markets["SOL/USDT"]
        assert (sol["precision"]["amount"], sol["precision"]["price"]) == (0.0001, 0.01)
        assert (sol["limits"]["amount"]["min"], sol["limits"]["cost"]["min"]) == (0.01, 0.1)
        assert (sol["taker"], sol["maker"]) == (0.001, 0.001)

    def test_time_and_status(self, ex: FakeKucoin, client: Any) -> None:
        """fetch_time returns the fake's clock; fetch_status says ok."""
        assert abs(client.fetch_time() - ex.clock()) < 1000
        assert client.fetch_status()["status"] == "ok"

    def test_ticker(self, ex: FakeKucoin, client: Any) -> None:
        """fetch_ticker reports the last price set on the fake."""
        ex.set_price("SOL-USDT", Decimal("87.36"))
        ticker = client.fetch_ticker("SOL/USDT")
        assert (ticker["last"], ticker["bid"], ticker["ask"]) == (87.36, 87.36, 87.36)
        assert ticker["high"] == 100.0

    def test_balance_echoes_account_type(self, ex: FakeKucoin, client: Any) -> None:
        """fetch_balance asks type=trade and every item carries that type."""
        ex.set_balance("SOL", Decimal("2.5"))
        balance = client.fetch_balance()
        assert ex.requests[-1].query == {"type": "trade"}
        assert balance["SOL"] == {"free": 2.5, "used": 0.0, "total": 2.5}
        assert {item["type"] for item in balance["info"]["data"]} == {"trade"}


class TestMarketOrders:
    def test_market_buy_by_amount(self, ex: FakeKucoin, client: Any) -> None:
        """A market buy fills at the last price; the 0.1 % fee is paid in USDT on top."""
        order = client.create_order("SOL/USDT", "market", "buy", 2)
        assert ex.balance("SOL").available == Decimal(2)
        assert ex.balance("USDT").available == Decimal(1000) - 200 * (1 + FEE)
        fetched = client.fetch_order(order["id"])
        assert (fetched["status"], fetched["filled"], fetched["average"]) == ("closed", 2.0, 100.0)
        assert fetched["fee"] == {"currency": "USDT", "cost": 0.2}

    def test_market_buy_by_cost(self, ex: FakeKucoin, client: Any) -> None:
        """A market buy by cost sends funds; size is funds/price rounded down to baseIncrement."""
        ex.set_price("SOL/USDT", Decimal("87.36"))
        client.create_market_buy_order_with_cost("SOL/USDT", 50)
        assert ex.requests[-1].body["funds"] == "50"
        size = (Decimal(50) / Decimal("87.36")).quantize(Decimal("0.0001"), rounding="ROUND_DOWN")
        cost = size * Decimal("87.36")
        assert ex.balance("SOL").available == size
        assert ex.balance("USDT").available == Decimal(1000) - cost - cost * FEE

    def test_market_sell_credits_proceeds_minus_fee(self, ex: FakeKucoin, client: Any) -> None:
        """A market sell credits price x size minus the fee."""
        ex.set_balance("SOL", Decimal(3))
        client.create_order("SOL/USDT", "market", "sell", 3)
        assert ex.balance("SOL").available == 0
        assert ex.balance("USDT").available == Decimal(1000) + 300 * (1 - FEE)

    def test_partial_fill_policy(self, client: Any) -> None:
        """FillPolicy.partial fills a fraction; the rest is cancelled (ccxt status canceled)."""
        with FakeKucoin(
            balances={"USDT": Decimal(1000)},
            prices={"SOL/USDT": Decimal(100)},
            fill_policy=FillPolicy.partial("0.25"),
        ) as ex:
            client = ex.ccxt_client()
            order = client.create_order("SOL/USDT", "market", "buy", 3)
            fetched = client.fetch_order(order["id"])
            assert (fetched["status"], fetched["filled"], fetched["remaining"]) == (
                "canceled", 0.75, 2.25,
            )  # fmt: skip
            assert ex.balance("SOL").available == Decimal("0.75")

    def test_fill_up_to_available_balance_like_the_incident(self) -> None:
        """With 123 USDT a 4.5 SOL market buy fills only what 123 USDT pays for, fee included."""
        price = Decimal("86.72")
        with FakeKucoin(
            balances={"USDT": Decimal(123)},
            prices={"SOL/USDT": price},
            fill_policy=FillPolicy.available_balance(),
        ) as ex:
            client = ex.ccxt_client()
            order = client.fetch_order(client.create_order("SOL/USDT", "market", "buy", 4.5)["id"])
            expected = (Decimal(123) / (price * (1 + FEE))).quantize(
                Decimal("0.0001"), rounding="ROUND_DOWN"
            )
            assert expected == Decimal("1.4169")
            assert (order["filled"], order["amount"], order["status"]) == (
                float(expected), 4.5, "canceled",
            )  # fmt: skip
            assert ex.balance("USDT").available == Decimal(123) - expected * price * (1 + FEE)
            assert ex.balance("USDT").available >= 0


class TestLimitOrders:
    def test_resting_limit_holds_and_fills_when_price_crosses(
        self, ex: FakeKucoin, client: Any
    ) -> None:
        """A limit buy below market holds price x size + fee, then fills at its price as maker."""
        order = client.create_order("SOL/USDT", "limit", "buy", 1, 95)
        hold = 95 * (1 + FEE)
        assert ex.balance("USDT") == type(ex.balance("USDT"))(Decimal(1000) - hold, hold)
        assert [o["id"] for o in client.fetch_open_orders("SOL/USDT")] == [order["id"]]
        ex.set_price("SOL/USDT", Decimal("94.50"))
        assert ex.balance("USDT").holds == 0
        assert ex.balance("USDT").available == Decimal(1000) - hold
        assert client.fetch_open_orders("SOL/USDT") == []
        (fill,) = client.fetch_my_trades("SOL/USDT")
        assert (fill["price"], fill["takerOrMaker"], fill["order"]) == (95.0, "maker", order["id"])

    def test_cancel_releases_hold(self, ex: FakeKucoin, client: Any) -> None:
        """Cancelling a resting limit sell releases the held SOL."""
        ex.set_balance("SOL", Decimal(2))
        order = client.create_order("SOL/USDT", "limit", "sell", 1.5, 105)
        assert (ex.balance("SOL").available, ex.balance("SOL").holds) == (
            Decimal("0.5"),
            Decimal("1.5"),
        )
        client.cancel_order(order["id"], "SOL/USDT")
        assert (ex.balance("SOL").available, ex.balance("SOL").holds) == (Decimal(2), 0)
        assert client.fetch_order(order["id"])["status"] == "canceled"

    def test_cancel_and_fetch_by_client_oid(self, ex: FakeKucoin, client: Any) -> None:
        """Orders can be fetched and cancelled by clientOrderId."""
        client.create_order("SOL/USDT", "limit", "buy", 1, 90, {"clientOid": "mine-1"})
        by_oid = {"clientOrderId": "mine-1"}
        assert client.fetch_order(None, "SOL/USDT", by_oid)["status"] == "open"
        client.cancel_order(None, "SOL/USDT", by_oid)
        # classic: the lookup by clientOid sees active orders only; by id it is cancelled
        with pytest.raises(ccxt.OrderNotFound):
            client.fetch_order(None, "SOL/USDT", by_oid)
        (order,) = ex.orders
        assert client.fetch_order(order, "SOL/USDT")["status"] == "canceled"
        assert ex.balance("USDT").holds == 0

    def test_duplicate_client_oid_on_live_order(self, ex: FakeKucoin, client: Any) -> None:
        """A second order with a live order's clientOid is rejected (classic: BadRequest)."""
        client.create_order("SOL/USDT", "limit", "buy", 1, 90, {"clientOid": "dup-1"})
        with pytest.raises(ccxt.BadRequest, match="clientOidDuplicated"):
            client.create_order("SOL/USDT", "limit", "buy", 1, 90, {"clientOid": "dup-1"})
        assert len(ex.orders) == 1


class TestStopOrders:
    def test_stop_holds_nothing_and_lists_as_open(self, ex: FakeKucoin, client: Any) -> None:
        """An untriggered stop order freezes no funds and appears in open trigger orders."""
        ex.set_balance("SOL", Decimal(1))
        stop = client.create_order("SOL/USDT", "market", "sell", 1, None, {"stopLossPrice": 90})
        assert ex.balance("SOL") == type(ex.balance("SOL"))(Decimal(1), Decimal(0))
        (listed,) = client.fetch_open_orders("SOL/USDT", None, None, {"trigger": True})
        assert (listed["id"], listed["status"], listed["triggerPrice"]) == (stop["id"], "open", 90)
        assert ex.requests[-1].body is None
        assert ex.requests[-1].query == {
            "symbol": "SOL-USDT",
            "tradeType": "TRADE",
            "status": "active",
        }

    def test_cancel_stop_order(self, ex: FakeKucoin, client: Any) -> None:
        """A cancelled stop order leaves the open list and never triggers."""
        ex.set_balance("SOL", Decimal(1))
        stop = client.create_order("SOL/USDT", "market", "sell", 1, None, {"stopLossPrice": 90})
        client.cancel_order(stop["id"], "SOL/USDT", {"trigger": True})
        assert client.fetch_open_orders("SOL/USDT", None, None, {"trigger": True}) == []
        ex.set_price("SOL/USDT", Decimal(80))
        assert ex.stop_orders[stop["id"]].status == "CANCELLED"
        assert ex.balance("SOL").available == 1

    def test_trigger_price_without_stop_means_loss(self, ex: FakeKucoin, client: Any) -> None:
        """triggerPrice alone sends no `stop`; KuCoin's default `loss` fires at or below."""
        ex.set_balance("SOL", Decimal(1))
        stop = client.create_order("SOL/USDT", "market", "sell", 1, None, {"triggerPrice": 95})
        assert "stop" not in ex.requests[-1].body
        ex.set_price("SOL/USDT", Decimal("95.01"))
        assert ex.stop_orders[stop["id"]].status == "NEW"
        ex.set_price("SOL/USDT", Decimal(95))
        assert ex.stop_orders[stop["id"]].status == "TRIGGERED"

    def test_stop_already_crossed_triggers_at_once(self, ex: FakeKucoin, client: Any) -> None:
        """A stop-loss above the market is accepted and triggers immediately, as on KuCoin."""
        ex.set_balance("SOL", Decimal(1))
        stop = client.create_order("SOL/USDT", "market", "sell", 1, None, {"stopLossPrice": 110})
        assert ex.orders[ex.stop_orders[stop["id"]].order_id].deal_size == 1
        assert ex.balance("USDT").available == Decimal(1000) + 100 * (1 - FEE)

    def test_triggered_stop_without_funds_is_cancelled(self, ex: FakeKucoin, client: Any) -> None:
        """At trigger time a stop the balance cannot pay for is cancelled, visibly."""
        ex.set_balance("SOL", Decimal(1))
        stop = client.create_order("SOL/USDT", "market", "sell", 1, None, {"stopLossPrice": 90})
        ex.set_balance("SOL", Decimal(0))  # e.g. sold by hand meanwhile
        ex.set_price("SOL/USDT", Decimal(89))
        assert ex.stop_orders[stop["id"]].failure == "Balance insufficient!"
        fetched = client.fetch_order(stop["id"], "SOL/USDT")
        assert (fetched["status"], fetched["filled"]) == ("canceled", 0.0)
        assert fetched["info"]["remark"] == "Balance insufficient!"
        assert ex.balance("USDT").available == Decimal(1000)

    def test_round_trip_adds_up_to_the_cent(self, ex: FakeKucoin) -> None:
        """Load markets, buy, place SL and TP, move the price: balances match exactly incl. fees."""
        client = ex.ccxt_client()
        client.load_markets()
        assert client.fetch_balance()["USDT"]["free"] == 1000.0
        client.create_order("SOL/USDT", "market", "buy", 2)
        sl = client.create_order("SOL/USDT", "market", "sell", 1, None, {"stopLossPrice": 90})
        tp = client.create_order("SOL/USDT", "limit", "sell", 1, 119, {"takeProfitPrice": 120})
        assert [r.body["stop"] for r in ex.requests if r.endpoint == "create_stop_order"] == [
            "loss", "entry",
        ]  # fmt: skip
        ex.set_price("SOL/USDT", Decimal(95))
        assert len(client.fetch_open_orders("SOL/USDT", None, None, {"trigger": True})) == 2
        ex.set_price("SOL/USDT", Decimal(90))  # stop-loss fires: market sell at 90
        ex.set_price("SOL/USDT", Decimal(120))  # take-profit fires: limit sell @119 takes at 120
        assert client.fetch_open_orders("SOL/USDT", None, None, {"trigger": True}) == []
        expected_usdt = Decimal(1000) - 2 * 100 * (1 + FEE) + 90 * (1 - FEE) + 120 * (1 - FEE)
        assert expected_usdt == Decimal("1009.590")
        assert ex.balance("USDT") == type(ex.balance("USDT"))(expected_usdt, Decimal(0))
        assert ex.balance("SOL").total == 0
        balance = client.fetch_balance()
        assert (balance["USDT"]["total"], balance["SOL"]["total"]) == (1009.59, 0.0)
        fees = sum(Decimal(str(t["fee"]["cost"])) for t in client.fetch_my_trades("SOL/USDT"))
        assert fees == Decimal("0.410")
        assert client.fetch_order(sl["id"])["status"] == "closed"
        assert client.fetch_order(tp["id"])["info"]["stopTriggered"] is True


class TestHfMode:
    def test_hf_endpoints_and_shapes(self) -> None:
        """In HF mode ccxt uses /api/v1/hf/... and type trade_hf; the fake answers in HF shapes."""
        with FakeKucoin(hf=True, balances={"USDT": Decimal(500)}, prices={"SOL/USDT": 100}) as ex:
            client = ex.ccxt_client()
            client.load_markets()
            assert client.options["hf"] is True
            assert client.fetch_balance()["USDT"]["free"] == 500.0
            assert ex.requests[-1].query == {"type": "trade_hf"}
            bought = client.create_order("SOL/USDT", "market", "buy", 1, None, {"clientOid": "h1"})
            assert bought["clientOrderId"] == "h1"
            resting = client.create_order("SOL/USDT", "limit", "buy", 1, 90)
            assert ex.requests[-1].path == "/api/v1/hf/orders"
            assert [o["id"] for o in client.fetch_open_orders("SOL/USDT")] == [resting["id"]]
            client.cancel_order(resting["id"], "SOL/USDT")
            assert client.fetch_order(resting["id"], "SOL/USDT")["status"] == "canceled"
            assert client.fetch_order(bought["id"], "SOL/USDT")["status"] == "closed"
            (trade,) = client.fetch_my_trades("SOL/USDT")
            assert trade["order"] == bought["id"]
            assert ex.balance("USDT").available == Decimal(500) - 100 * (1 + FEE)
            hf_paths = {r.path for r in ex.requests if r.endpoint in ("fetch_order", "fills")}
            assert all(p.startswith("/api/v1/hf/") for p in hf_paths)

    def test_hf_fetch_requires_symbol_on_the_wire(self) -> None:
        """The fake insists on ?symbol= for HF order lookups, like KuCoin."""
        with FakeKucoin(hf=True) as ex:
            client = ex.ccxt_client()
            client.load_markets()
            with pytest.raises(ccxt.BadRequest, match="symbol is required"):
                client.privateGetHfOrdersOrderId({"orderId": "5fa0c0de0000000000000001"})
