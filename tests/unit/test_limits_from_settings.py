"""Every configured limit reaches the guard: no bot can drop one by wiring GuardLimits by hand."""

from __future__ import annotations

from decimal import Decimal

import attrs

import safetrade as st

ENV = {
    "TRADING_MODE": "paper",
    "ACCOUNT_BALANCE_USD": "123",
    "RISK_PERCENT": "0.7",
    "MAX_OPEN_POSITIONS": "3",
    "MIN_SIGNAL_STRENGTH": "0.35",
    "PRICE_COLLAR_PERCENT": "1.5",
    "MAX_ORDER_VALUE_USD": "40",
    "BALANCE_TOLERANCE_PERCENT": "4",
}
EXPECTED = {
    "risk_percent": Decimal("0.7"),
    "max_open_positions": 3,
    "min_signal_strength": Decimal("0.35"),
    "price_collar_percent": Decimal("1.5"),
    "max_order_value": Decimal(40),
    "balance_tolerance_percent": Decimal(4),
}


def test_every_limit_comes_from_its_setting() -> None:
    limits = st.GuardLimits.from_settings(st.load_settings(env=ENV))
    assert attrs.asdict(limits) == EXPECTED


def test_every_guard_limit_has_a_setting_that_is_not_its_default() -> None:
    """A limit added to GuardLimits without a setting (or left at its default) fails here."""
    defaults = st.GuardLimits(risk_percent=Decimal(1), max_open_positions=1)
    fields = {f.name for f in attrs.fields(st.GuardLimits)}
    assert fields == EXPECTED.keys()
    for name in fields:
        assert EXPECTED[name] != getattr(defaults, name), f"{name}: the test value is the default"


def test_the_trader_uses_exactly_those_limits(tmp_path) -> None:
    from safetrade.testing import FakeKucoin

    settings = st.load_settings(env={**ENV, "SAFETRADE_KILL_SWITCH_FILE": str(tmp_path / "ks")})
    with FakeKucoin(balances={"USDT": "123"}, prices={"SOL/USDT": "87.36"}) as fake:
        trader = st.Trader(settings, st.Gateway(fake.ccxt_client()), symbol="SOL/USDT")
        assert trader.limits == st.GuardLimits.from_settings(settings)
        refused = trader.trade(stop_price=Decimal("85.61"), take_profit_price=None,
                               signal_strength=Decimal("0.3"))  # fmt: skip
        assert not refused.sent
        assert "below MIN_SIGNAL_STRENGTH 0.35" in (refused.refusal or "")
        capped = trader.trade(stop_price=Decimal("85.61"), take_profit_price=None,
                              signal_strength=Decimal("0.5"))  # fmt: skip
        assert capped.plan is not None
        assert capped.plan.entry.amount * Decimal("87.36") <= 40  # MAX_ORDER_VALUE_USD
