"""A stop order's ``vs…`` id on the regular order endpoints, as freqtrade uses them.

freqtrade reads and cancels its KuCoin stop-loss with plain ``fetch_order``/``cancel_order``
(no ``stop`` flag), i.e. ``GET``/``DELETE /api/v1/orders/{id}``. Classic KuCoin answers those for
stop ids (ccxt PR 11824); the HF endpoints know no stop orders.
"""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from safetrade.testing import FakeKucoin


def _fake(*, hf: bool = False) -> FakeKucoin:
    return FakeKucoin(
        hf=hf, balances={"USDT": Decimal(1000), "SOL": Decimal(2)}, prices={"SOL/USDT": 100}
    )


def test_an_untriggered_stop_reads_as_an_open_trigger_order() -> None:
    with _fake() as ex:
        client = ex.ccxt_client()
        stop = client.create_order("SOL/USDT", "market", "sell", 1, None, {"stopLossPrice": 95})
        read = client.fetch_order(stop["id"], "SOL/USDT")
        assert (read["id"], read["status"], read["filled"]) == (stop["id"], "open", 0.0)
        assert read["triggerPrice"] == 95.0
        assert (read["info"]["stop"], read["info"]["stopTriggered"]) == ("loss", False)
        assert [r.path for r in ex.requests if r.endpoint == "fetch_order"] == [
            f"/api/v1/orders/{stop['id']}"
        ]


def test_a_stop_cancelled_through_the_order_endpoint_is_gone_from_the_stop_list() -> None:
    with _fake() as ex:
        client = ex.ccxt_client()
        stop = client.create_order("SOL/USDT", "market", "sell", 1, None, {"stopLossPrice": 95})
        client.cancel_order(stop["id"], "SOL/USDT")
        assert ex.stop_orders[stop["id"]].status == "CANCELLED"
        assert client.fetch_open_orders("SOL/USDT", None, None, {"stop": True}) == []
        # what KuCoin showed for it in 2022: inactive, cancelExist false (ccxt: "cancelled")
        read = client.fetch_order(stop["id"], "SOL/USDT")
        assert (read["status"], read["info"]["isActive"]) == ("cancelled", False)
        with pytest.raises(ccxt.OrderNotFound):
            client.cancel_order(stop["id"], "SOL/USDT")


def test_a_triggered_stop_reads_as_the_execution_it_became() -> None:
    with _fake() as ex:
        client = ex.ccxt_client()
        stop = client.create_order("SOL/USDT", "market", "sell", 1, None, {"stopLossPrice": 95})
        ex.set_price("SOL/USDT", Decimal(94))
        became = ex.stop_orders[stop["id"]].order_id
        assert became is not None
        assert became != stop["id"]
        assert ex.orders[became].client_oid == ex.stop_orders[stop["id"]].client_oid
        read = client.fetch_order(stop["id"], "SOL/USDT")
        assert (read["status"], read["filled"], read["average"]) == ("closed", 1.0, 94.0)
        assert read["info"]["stopTriggered"] is True
        # nothing is left to cancel: the stop has triggered and its market order is done
        with pytest.raises(ccxt.OrderNotFound):
            client.cancel_order(stop["id"], "SOL/USDT")


def test_hf_order_endpoints_know_no_stop_ids() -> None:
    with _fake(hf=True) as ex:
        client = ex.ccxt_client()
        stop = client.create_order("SOL/USDT", "market", "sell", 1, None, {"stopLossPrice": 95})
        with pytest.raises(ccxt.OrderNotFound):
            client.fetch_order(stop["id"], "SOL/USDT")
        with pytest.raises(ccxt.OrderNotFound):
            client.cancel_order(stop["id"], "SOL/USDT")
        assert ex.stop_orders[stop["id"]].status == "NEW"
        # the stop-order API itself serves both account types
        assert client.fetch_order(stop["id"], "SOL/USDT", {"stop": True})["status"] == "open"
