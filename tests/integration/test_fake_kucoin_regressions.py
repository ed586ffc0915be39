"""Defects found in review, each pinned through the real ccxt client."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from safetrade.testing import BookShape, FakeKucoin, FillPolicy


def test_a_price_move_that_moves_the_price_again_fires_each_stop_once() -> None:
    """The first stop's sale walks the book (moving the price); the second must not fire twice."""
    with FakeKucoin(
        balances={"SOL": "10"}, prices={"SOL/USDT": "100"}, book=BookShape(spread_ticks=2)
    ) as fake:
        client = fake.ccxt_client()
        for _ in range(2):
            client.create_order("SOL/USDT", "market", "sell", 1, None, {"stopLossPrice": 95})
        fake.set_price("SOL/USDT", Decimal(95))
        assert fake.balance("SOL").total == 8
        assert len(fake.orders) == 2
        assert len(fake.fills) == 2


@pytest.mark.parametrize("fraction", ["1", "0.5"])
def test_a_market_sell_beyond_the_coins_held_is_refused_under_any_fill_policy(
    fraction: str,
) -> None:
    with FakeKucoin(
        balances={"SOL": "6"}, prices={"SOL/USDT": "100"}, fill_policy=FillPolicy.partial(fraction)
    ) as fake:
        with pytest.raises(ccxt.InsufficientFunds):
            fake.ccxt_client().create_order("SOL/USDT", "market", "sell", 10)
        assert fake.orders == {}
        assert fake.balance("SOL").total == 6


def test_the_strict_policy_judges_the_whole_buy_not_the_share_that_fills() -> None:
    policy = FillPolicy(fraction=Decimal("0.5"), up_to_balance=False)
    with FakeKucoin(
        balances={"USDT": "600"}, prices={"SOL/USDT": "100"}, fill_policy=policy
    ) as fake:
        with pytest.raises(ccxt.InsufficientFunds):
            fake.ccxt_client().create_order("SOL/USDT", "market", "buy", 10)
        assert fake.orders == {}


def test_a_stop_whose_response_was_lost_and_that_fired_is_found_not_sent_again() -> None:
    from safetrade import PositionSide
    from safetrade.builder import OrderPurpose, new_client_oid, stop_loss_order
    from safetrade.gateway import Gateway
    from safetrade.testing import Fault

    with FakeKucoin(balances={"SOL": "2"}, prices={"SOL/USDT": "100"}) as fake:
        gateway = Gateway(fake.ccxt_client())
        market = gateway.load_market("SOL/USDT")
        intent = stop_loss_order(
            market, side=PositionSide.LONG, amount=Decimal(1), stop_price=Decimal(95),
            entry_price=Decimal(100), client_oid=new_client_oid(OrderPurpose.STOP_LOSS),
        )  # fmt: skip
        fake.inject("create_stop_order", Fault.RESPONSE_LOST)
        with pytest.raises(Exception, match="outcome unknown"):
            gateway.submit_unguarded(intent)
        fake.set_price("SOL/USDT", Decimal(94))  # it fires before the retry
        found = gateway.ensure_submitted_unguarded(intent)
        assert found.client_oid == intent.client_oid
        assert len(fake.stop_orders) == 1  # not placed twice
        assert fake.balance("SOL").total == 1  # only the position was sold


def test_a_bridged_session_over_a_real_transport_counts_as_real_money() -> None:
    import httpx

    from safetrade.gateway import Gateway
    from safetrade.testing import session_over

    client = ccxt.kucoin({"session": session_over(httpx.HTTPTransport())})
    assert Gateway(client).can_trade_real_money()
    with FakeKucoin() as fake:
        assert not Gateway(fake.ccxt_client()).can_trade_real_money()


def test_a_lost_entry_is_found_behind_a_full_page_of_other_done_orders() -> None:
    """Classic: 150 other orders finish on the symbol before the retry looks for the entry."""
    from safetrade.builder import OrderIntent, OrderPurpose
    from safetrade.gateway import Gateway
    from safetrade.testing import Fault

    with FakeKucoin(balances={"USDT": "100000"}, prices={"SOL/USDT": "100"}) as fake:
        gateway = Gateway(fake.ccxt_client())
        entry = OrderIntent(
            symbol="SOL/USDT", side="buy", order_type="market", amount=Decimal("0.5"),
            purpose=OrderPurpose.ENTRY, client_oid="st-entry-lost",
        )  # fmt: skip
        fake.inject("create_order", Fault.RESPONSE_LOST)
        with pytest.raises(Exception, match="outcome unknown"):
            gateway.submit_unguarded(entry)
        client = fake.ccxt_client()
        for _ in range(150):
            client.create_order("SOL/USDT", "market", "buy", Decimal("0.01"))
        found = gateway.ensure_submitted_unguarded(entry)
        assert found.client_oid == "st-entry-lost"
        assert sum(1 for o in fake.orders.values() if o.client_oid == "st-entry-lost") == 1
