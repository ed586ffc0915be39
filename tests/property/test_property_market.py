"""Properties of MarketSpec.from_ccxt: exact increments from ccxt's floats, junk refused by type."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safetrade import MarketSpec, MarketSpecError, SafetradeError
from safetrade.market import DEFAULT_TAKER_FEE
from tests.property.support import junk, nonpositive
from tests.strategies import decimals, kucoin_sol_usdt, markets

# Increments and limits as KuCoin publishes them (text), which ccxt hands over as floats.
STEPS = st.sampled_from(
    ["0.01", "0.0001", "0.00000001", "0.1", "1", "5", "0.05", "0.25", "0.000001", "10", "0.001"]
)
LIMITS = st.sampled_from(["0.01", "0.1", "1", "10", "0.00001", "99999999", "10000000000", "5"])
FEES = st.sampled_from(["0", "0.001", "0.0008", "0.002", "0.0025"])


@st.composite
def ccxt_markets(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Decimal | None]]:
    """A ccxt-shaped market dict (floats, as ccxt builds it) and the exact values expected."""
    market = kucoin_sol_usdt()
    price, amount = draw(STEPS), draw(STEPS)
    min_amount = draw(st.none() | LIMITS)
    max_amount = draw(st.none() | LIMITS)
    min_cost = draw(st.none() | LIMITS)
    min_funds = draw(st.none() | LIMITS)
    taker = draw(st.none() | FEES)

    def as_float(text: str | None) -> float | None:
        return None if text is None else float(text)

    market["precision"] = {"price": float(price), "amount": float(amount)}
    market["limits"]["amount"] = {"min": as_float(min_amount), "max": as_float(max_amount)}
    market["limits"]["cost"] = {"min": as_float(min_cost), "max": None}
    market["info"]["minFunds"] = min_funds  # KuCoin's own text; None when absent
    market["taker"] = as_float(taker)
    mins = [Decimal(v) for v in (min_cost, min_funds) if v is not None]
    expected = {
        "price_increment": Decimal(price),
        "amount_increment": Decimal(amount),
        "min_amount": None if min_amount is None else Decimal(min_amount),
        "max_amount": None if max_amount is None else Decimal(max_amount),
        "min_notional": max(mins) if mins else None,
        "taker_fee": DEFAULT_TAKER_FEE if taker is None else Decimal(taker),
    }
    return market, expected


@given(ccxt_markets())
def test_from_ccxt_reads_the_exact_decimal_the_exchange_sent(case):
    market, expected = case
    spec = MarketSpec.from_ccxt(market)
    for field, value in expected.items():
        got = getattr(spec, field)
        assert got == value, field
        assert got is None or isinstance(got, Decimal)
    assert (spec.symbol, spec.market_id, spec.base, spec.quote) == (
        "SOL/USDT",
        "SOL-USDT",
        "SOL",
        "USDT",
    )


@given(ccxt_markets())
def test_from_ccxt_keeps_the_stricter_minimum_value(case):
    market, _ = case
    spec = MarketSpec.from_ccxt(market)
    cost_min = market["limits"]["cost"]["min"]
    funds = market["info"]["minFunds"]
    if spec.min_notional is not None:
        if cost_min is not None:
            assert spec.min_notional >= Decimal(str(cost_min))
        if funds is not None:
            assert spec.min_notional >= Decimal(funds)


FIELDS = st.sampled_from(
    [
        ("precision", "price"),
        ("precision", "amount"),
        ("limits.amount", "min"),
        ("limits.amount", "max"),
        ("limits.cost", "min"),
        ("limits.cost", "max"),
        ("info", "minFunds"),
        ("info", "quoteIncrement"),
        ("", "taker"),
    ]
)


def _set(market: dict[str, Any], where: str, key: str, value: object) -> None:
    target = market
    for part in filter(None, where.split(".")):
        target = target[part]
    target[key] = value


def _not_a_ccxt_number(value: object) -> bool:
    # ccxt delivers finite floats, so from_ccxt accepts them (via str()); everything else is junk
    finite_float = isinstance(value, float) and math.isfinite(value) and abs(value) <= 1e15
    return value != "" and not finite_float


@given(FIELDS, junk(allow_none=False).filter(_not_a_ccxt_number))
def test_junk_in_any_market_field_is_a_market_spec_error(field, value):
    market = kucoin_sol_usdt()
    _set(market, *field, value)
    with pytest.raises(MarketSpecError):
        MarketSpec.from_ccxt(market)


@given(FIELDS, st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False))
def test_negative_float_in_any_market_field_is_refused(field, value):
    market = kucoin_sol_usdt()
    # min_notional keeps the larger of cost.min and minFunds, so a valid minFunds would mask a
    # negative cost.min (and vice versa); drop the other one to see each field's own check
    market["info"].pop("minFunds")
    market["limits"]["cost"]["min"] = None
    _set(market, *field, value)
    with pytest.raises(MarketSpecError):
        MarketSpec.from_ccxt(market)


@given(st.sampled_from([("precision", "price"), ("precision", "amount")]), nonpositive())
def test_zero_or_negative_increment_is_refused(field, value):
    market = kucoin_sol_usdt()
    _set(market, *field, value)
    with pytest.raises(MarketSpecError):
        MarketSpec.from_ccxt(market)


@given(
    st.sampled_from([("precision", "price"), ("precision", "amount")]), st.sampled_from(["", None])
)
def test_missing_increment_is_refused_not_guessed(field, value):
    market = kucoin_sol_usdt()
    _set(market, *field, value)
    with pytest.raises(MarketSpecError, match="never hard-code increments"):
        MarketSpec.from_ccxt(market)


@given(
    st.sampled_from(["precision", "id", "base", "quote"]),
    st.sampled_from(["drop", None, 5, [], "junk"]),
)
def test_structurally_broken_market_is_a_safetrade_error(key, change):
    market = kucoin_sol_usdt()
    if change == "drop":
        del market[key]
    else:
        market[key] = change
    try:
        spec = MarketSpec.from_ccxt(market)
    except SafetradeError:
        return
    # only the plain text fields may be anything; str() of them is kept as given
    assert key in ("id", "base", "quote")
    assert spec.price_increment == Decimal("0.01")


@given(st.integers().filter(lambda mode: mode != 4))
def test_only_tick_size_precision_mode_is_accepted(mode):
    with pytest.raises(MarketSpecError, match="precisionMode"):
        MarketSpec.from_ccxt(kucoin_sol_usdt(), precision_mode=mode)


@given(
    st.sampled_from(
        ["price_increment", "amount_increment", "min_amount", "min_notional", "taker_fee"]
    ),
    junk(allow_none=False),
)
def test_direct_construction_refuses_junk(field, value):
    kwargs: dict[str, Any] = {
        "symbol": "S/Q",
        "market_id": "S-Q",
        "base": "S",
        "quote": "Q",
        "price_increment": Decimal("0.01"),
        "amount_increment": Decimal("0.0001"),
        field: value,
    }
    # text is refused too: MarketSpec holds Decimals only; from_ccxt does the parsing
    if isinstance(value, Decimal) and value.is_finite() and field != "taker_fee":
        kwargs[field] = -abs(value) - 1
    with pytest.raises(MarketSpecError):
        MarketSpec(**kwargs)


@given(st.decimals(allow_nan=False, allow_infinity=False).filter(lambda f: not 0 <= f < 1))
def test_taker_fee_outside_zero_to_one_is_refused(fee):
    with pytest.raises(MarketSpecError, match="fraction"):
        MarketSpec(
            symbol="S/Q",
            market_id="S-Q",
            base="S",
            quote="Q",
            price_increment=Decimal("0.01"),
            amount_increment=Decimal("0.0001"),
            taker_fee=fee,
        )


@given(
    markets(), decimals("0", "1e6", places=8), st.none() | decimals("0.00000001", "1e6", places=8)
)
def test_sellable_is_the_smallest_size_and_the_minimum_value_nothing_else(
    market: MarketSpec, amount: Decimal, price: Decimal | None
) -> None:
    """Dust is what KuCoin refuses to sell: below the smallest size, or worth under minFunds."""
    sellable = market.sellable(amount, price)
    big_enough = amount >= market.smallest_amount
    with localcontext() as exact:
        exact.prec = 60  # the product exactly, as the method's
        worth_enough = (
            market.min_notional is None or price is None or amount * price >= market.min_notional
        )
    assert sellable is (big_enough and worth_enough)
    if sellable:  # more of it is sellable too
        assert market.sellable(amount * 2, price)
