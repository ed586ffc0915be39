"""The Trader's entry on books that are not the incident's: a wide spread, a thin ladder.

A review found the Trader sized from the last price and bought at market: on a book whose
levels hold 0.05 SOL, 0.40 apart, its 0.6396 SOL buy averaged 89.72 and firing the stop-loss
lost 2.74 USDT of a 1.23 budget; with the best ask 0.40 above the last price, 1.49. It now
sizes from the best ask and sends a limit at it, immediate-or-cancel. Judged by what the fake
KuCoin saw: the orders, the fills, the balance spent and the live stop-loss.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

import safetrade as st
from safetrade.gateway import Gateway, Prices
from safetrade.protector import Flattened, Protected
from safetrade.testing import BookShape, FakeKucoin, MarketRules

SYMBOL = "SOL/USDT"
STOP = Decimal("85.61")
BUDGET = Decimal("1.23")  # 1 % of 123 USDT
FEE = Decimal("0.001")


@pytest.fixture
def settings(tmp_path: Path) -> st.Settings:
    return st.load_settings(
        env={
            "TRADING_MODE": "paper",
            "RISK_PERCENT": "1",
            "MAX_OPEN_POSITIONS": "1",
            "SAFETRADE_KILL_SWITCH_FILE": str(tmp_path / "kill-switch.json"),
        }
    )


@pytest.fixture
def fake() -> Iterator[FakeKucoin]:
    with FakeKucoin(balances={"USDT": "123"}, prices={SYMBOL: "87.36"}) as ex:
        yield ex


def _trade(fake: FakeKucoin, settings: st.Settings) -> st.TradeResult:
    trader = st.Trader.start(
        settings, lambda: Gateway(fake.ccxt_client()), symbol=SYMBOL, bot_package="mybot",
        sleep=lambda _s: None,
    )  # fmt: skip
    return trader.trade(stop_price=STOP, take_profit_price=Decimal("99.00"))


def _loss_at_stop(fake: FakeKucoin) -> tuple[Decimal, Decimal]:
    """What firing the live stop-loss loses, from what the exchange recorded; and the held."""
    spent = Decimal(123) - fake.balance("USDT").total
    held = fake.balance("SOL").total
    [stop] = [s for s in fake.stop_orders.values() if s.status == "NEW" and s.stop == "loss"]
    assert stop.size == held
    return spent - held * stop.stop_price * (1 - FEE), held


@pytest.mark.parametrize(
    ("shape", "ask", "filled"),
    [
        # 0.05 SOL per level, 40 ticks apart: a market buy walked to 89.72 on average
        (BookShape(levels=100, level_size=Decimal("0.05"), step_ticks=40), "87.36", "0.05"),
        # the best ask 0.40 above the last price, the bid 0.40 below: sized from the ask, with
        # the stop-loss's sale to the bid 0.80 under its trigger counted: 0.3938 SOL
        (BookShape(spread_ticks=80), "87.76", "0.3938"),
    ],
    ids=["thin-ladder", "wide-spread"],
)
def test_the_entry_never_fills_above_the_ask_it_was_sized_from(
    fake: FakeKucoin, settings: st.Settings, shape: BookShape, ask: str, filled: str
) -> None:
    fake.set_book(shape)
    result = _trade(fake, settings)
    assert isinstance(result.outcome, Protected)
    [buy] = [o for o in fake.orders.values() if o.side == "buy"]
    assert (buy.type, buy.price, buy.time_in_force) == ("limit", Decimal(ask), "IOC")
    loss, held = _loss_at_stop(fake)
    assert held == Decimal(filled)
    assert loss <= BUDGET, f"loss at the stop {loss} over the 1.23 budget"
    # what the IOC did not fill was cancelled by KuCoin: nothing rests to fill unprotected
    assert not [o for o in fake.orders.values() if o.side == "buy" and o.is_active]
    # the stop fires: its market sell takes the bid, below the trigger by the spread; what was
    # really lost, from the balances, is still within the budget
    fake.set_price(SYMBOL, STOP)
    assert fake.balance("SOL").total == 0
    realised = Decimal(123) - fake.balance("USDT").total
    assert realised <= BUDGET, f"realised loss {realised} over the 1.23 budget"


def test_on_the_incidents_book_the_plan_is_unchanged(
    fake: FakeKucoin, settings: st.Settings
) -> None:
    result = _trade(fake, settings)  # spread 0: the ask is the last price
    assert result.plan is not None
    assert result.plan.size.amount == Decimal("0.6396")
    loss, held = _loss_at_stop(fake)
    assert held == Decimal("0.6396")
    assert loss <= BUDGET


def test_a_fill_worth_less_than_kucoins_minimum_is_dust_not_a_halt(settings: st.Settings) -> None:
    # a review's case: the IOC takes the top level, 50 XYZ worth 0.05 USDT, under minFunds 0.1:
    # no stop-loss can be placed for it and no sale can clear it; the bot used to halt (kill
    # switch engaged for good) and send three refused sells on every tick
    rules = MarketRules(
        "XYZ-USDT", base_min_size="1", base_increment="1", price_increment="0.000001",
        min_funds="0.1",
    )  # fmt: skip
    with FakeKucoin(
        markets=[rules], balances={"USDT": "123"}, prices={"XYZ/USDT": "0.001"}
    ) as fake:
        fake.set_book(BookShape(levels=100, level_size=Decimal("50"), step_ticks=40))
        alerts: list[st.Alert] = []
        trader = st.Trader.start(
            settings, lambda: Gateway(fake.ccxt_client()), symbol="XYZ/USDT",
            bot_package="mybot", sleep=lambda _s: None, alert=alerts.append,
        )  # fmt: skip
        result = trader.trade(stop_price=Decimal("0.00098"), take_profit_price=Decimal("0.0011"))
        assert isinstance(result.outcome, Flattened)
        assert "dust" in result.outcome.reason
        assert result.outcome.residual == Decimal(50)
        assert trader.kill_switch.reason is None  # trading goes on
        assert fake.balance("XYZ").total == Decimal(50)
        fake.forget_requests()
        alerts.clear()
        for _ in range(3):
            trader.tick()
        assert [a.event for a in alerts] == []  # dust is no bare position
        assert "create_order" not in fake.endpoints_called()
        again = trader.trade(stop_price=Decimal("0.00098"), take_profit_price=None)
        assert "max-open-positions" not in (again.refusal or "")  # dust is no open position
        assert "kill-switch" not in (again.refusal or "")


def test_dust_fills_that_add_up_to_a_sellable_amount_are_protected_at_the_trades_levels(
    fake: FakeKucoin, settings: st.Settings
) -> None:
    # 0.009 SOL per level, 0.40 apart: each IOC fills 0.009, under the 0.01 minimum (dust);
    # the second makes 0.018, which sat bare until the next tick's recovery stop
    fake.set_book(BookShape(levels=100, level_size=Decimal("0.009"), step_ticks=40))
    trader = st.Trader.start(
        settings, lambda: Gateway(fake.ccxt_client()), symbol=SYMBOL, bot_package="mybot",
        sleep=lambda _s: None,
    )  # fmt: skip
    first = trader.trade(stop_price=STOP, take_profit_price=Decimal("99.00"))
    assert isinstance(first.outcome, Flattened)
    assert first.outcome.residual == Decimal("0.009")
    second = trader.trade(stop_price=STOP, take_profit_price=Decimal("99.00"))
    assert fake.balance("SOL").total == Decimal("0.018")
    assert isinstance(second.bare, Protected)
    live = sorted(
        (s.stop, s.stop_price, s.size) for s in fake.stop_orders.values() if s.status == "NEW"
    )
    assert live == [("entry", Decimal("99.00"), Decimal("0.018")), ("loss", STOP, Decimal("0.018"))]


class _OneSidedBook(Gateway):
    """The fake's gateway with one side of the book empty, as a halted or new market has."""

    def __init__(self, exchange: object, empty: str) -> None:
        super().__init__(exchange)
        self.empty = empty

    def prices(self, symbol: str) -> Prices:
        return attrs.evolve(super().prices(symbol), **{self.empty: None})


@pytest.mark.parametrize("empty", ["ask", "bid"])
def test_a_market_without_an_ask_or_a_bid_is_refused_naming_it_and_nothing_is_sent(
    fake: FakeKucoin, settings: st.Settings, empty: str
) -> None:
    trader = st.Trader.start(
        settings, lambda: _OneSidedBook(fake.ccxt_client(), empty), symbol=SYMBOL,
        bot_package="mybot", sleep=lambda _s: None,
    )  # fmt: skip
    fake.forget_requests()
    result = trader.trade(stop_price=STOP, take_profit_price=Decimal("99.00"))
    assert result.sent is False
    assert (result.refusal or "").startswith(f"SOL/USDT has no {empty} (last price 87.36): ")
    assert "Fix: trade it once its order book has both sides" in (result.refusal or "")
    assert "create_order" not in fake.endpoints_called()
