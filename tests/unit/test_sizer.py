"""Unit tests for safetrade.sizer with the incident's real numbers, arithmetic done by hand."""

from __future__ import annotations

import decimal
from decimal import Decimal

import attrs
import pytest

from safetrade import InvalidValue, PositionSide, SafetradeError, SizingError, size_position
from tests.strategies import sol_usdt

D = Decimal
LONG, SHORT = PositionSide.LONG, PositionSide.SHORT


def incident(**overrides):
    """size_position with the Feb 6 inputs: $123 free, 1 %, entry 87.36, stop 85.61."""
    kwargs = {
        "market": sol_usdt(),
        "side": LONG,
        "free_balance": D(123),
        "entry_price": D("87.36"),
        "stop_price": D("85.61"),
        "risk_percent": D(1),
    }
    kwargs.update(overrides)
    return size_position(**kwargs)


class TestIncidentSizing:
    def test_real_balance_gives_0_6396_sol(self):
        """$123 at 1 % risk sizes 0.6396 SOL, not the 4.5 SOL ($394) the bot sent.

        budget = 123 * 1 / 100 = 1.23 USDT.
        risk per SOL = (87.36 - 85.61) + 0.001 * (87.36 + 85.61) = 1.75 + 0.17297 = 1.92297.
        1.92297 * 0.6396 = 1.229931612 <= 1.23 and 1.92297 * 0.6397 = 1.230123909 > 1.23,
        so the largest 0.0001-step amount within budget is 0.6396 SOL.
        By balance: 123 / (87.36 * 1.001) = 1.406.. SOL, so the risk budget binds.
        """
        size = incident()
        assert size.amount == D("0.6396")
        assert size.limited_by == "risk budget"
        assert size.risk_budget == D("1.23")
        assert size.spendable == D(123)

    def test_notional_fits_the_free_balance(self):
        """0.6396 * 87.36 = 55.875456 USDT, far below the $123 free (the bot wanted $394)."""
        size = incident()
        assert size.notional == D("55.875456")
        assert size.notional <= D(123)
        assert size.notional < D(394)

    def test_risk_and_fee_reserve_are_reported(self):
        """Risk = 0.6396 * 1.92297 = 1.229931612; fee reserve = 55.875456 * 0.001."""
        size = incident()
        assert size.risk_amount == D("1.229931612")
        assert size.risk_amount <= size.risk_budget
        assert size.fee_reserve == D("0.055875456")

    def test_believed_10000_balance_would_have_sized_52_sol(self):
        """With the phantom $10,000 the budget is 100 and 100 / 1.92297 -> 52.0028 SOL.

        1.92297 * 52.0028 = 99.999824316 <= 100; 1.92297 * 52.0029 = 100.000016613 > 100.
        This is why the configured balance may only cap, never replace, the exchange's.
        """
        assert incident(free_balance=D(10000)).amount == D("52.0028")

    def test_balance_cap_of_10000_does_not_raise_a_123_balance(self):
        """A configured 10,000 on a 123 account changes nothing: the cap only lowers."""
        assert incident(balance_cap=D(10000)).amount == D("0.6396")
        assert incident(balance_cap=D(10000)).spendable == D(123)

    def test_balance_cap_below_free_lowers_the_size(self):
        """Free 10,000 capped at 123 sizes as if 123 were free: 0.6396 SOL."""
        size = incident(free_balance=D(10000), balance_cap=D(123))
        assert size.amount == D("0.6396")
        assert size.spendable == D(123)
        assert size.free_balance == D(10000)

    def test_all_in_is_limited_by_balance_including_fees(self):
        """At 100 % risk the balance binds: 123 / 87.44736 -> 1.4065 SOL (not the 1.417 filled).

        87.44736 * 1.4065 = 122.99471184 <= 123; 87.44736 * 1.4066 = 123.003456576 > 123.
        """
        size = incident(risk_percent=D(100))
        assert size.amount == D("1.4065")
        assert size.limited_by == "free balance"
        assert size.notional * (1 + D("0.001")) <= D(123)

    def test_max_order_value_caps_the_size(self):
        """A $10 order ceiling gives floor(10 / 87.36, 0.0001) = 0.1144 SOL (0.1144*87.36=9.99)."""
        size = incident(max_order_value=D(10))
        assert size.amount == D("0.1144")
        assert size.limited_by == "max order value"

    def test_zero_fee_rate_uses_the_bare_stop_distance(self):
        """Without fees risk per SOL is 1.75 and 1.23 / 1.75 = 0.70285.. -> 0.7028 SOL."""
        assert incident(fee_rate=D(0)).amount == D("0.7028")

    def test_explain_shows_the_arithmetic(self):
        """The one-line explanation carries amount, budget, spendable and the binding limit."""
        text = incident().explain()
        for part in ("0.6396", "1.23", "123", "risk budget"):
            assert part in text


class TestShort:
    def test_short_stop_above_entry(self):
        """A short with entry 87.36 and stop 89.11 risks 1.75 + 0.001 * 176.47 = 1.92647 per SOL.

        1.23 / 1.92647 = 0.63847.. -> 0.6384 SOL.
        """
        size = incident(side=SHORT, stop_price=D("89.11"))
        assert size.amount == D("0.6384")
        assert size.side is SHORT


class TestRefusals:
    def test_dust_balance_is_refused_not_enlarged(self):
        """$1 at 1 % gives 0.01 / 1.92297 = 0.0052 SOL, below baseMinSize 0.01: refused."""
        with pytest.raises(SizingError, match="minimum amount") as info:
            incident(free_balance=D(1))
        assert "0.0052" in str(info.value)

    def test_zero_balance_is_refused(self):
        """An empty account sizes nothing and says so."""
        with pytest.raises(SizingError, match="rounds down to zero"):
            incident(free_balance=D(0))

    def test_below_min_notional_is_refused(self):
        """A market with minFunds 100 refuses the 55.88 USDT position instead of enlarging it."""
        import attrs

        market = attrs.evolve(sol_usdt(), min_notional=D(100))
        with pytest.raises(SizingError, match="minimum order value"):
            incident(market=market)

    @pytest.mark.parametrize(
        ("overrides", "why", "fix"),
        [
            ({"free_balance": D(1)}, "would break the risk limit", "raise the risk percent"),
            (
                {"free_balance": D("0.8"), "risk_percent": D(100)},
                "would cost more than the free balance",
                "fund the account",
            ),
            (
                {"max_order_value": D("0.5")},
                "would exceed the maximum order value",
                "raise MAX_ORDER_VALUE_USD",
            ),
        ],
        ids=["risk budget", "free balance", "max order value"],
    )
    def test_below_minimum_names_the_bound_that_decided(self, overrides, why, fix):
        """The refusal blames the bound that sized the order, not always the risk limit.

        A 0.5 USDT MAX_ORDER_VALUE_USD sizes 0.5 / 87.36 = 0.0057 SOL: raising the risk percent
        would not help, raising the cap would.
        """
        with pytest.raises(SizingError, match="minimum amount") as info:
            incident(**overrides)
        assert why in str(info.value)
        assert fix in str(info.value)

    @pytest.mark.parametrize(
        ("side", "stop"), [(LONG, "87.36"), (LONG, "90"), (SHORT, "87.36"), (SHORT, "85")]
    )
    def test_stop_on_the_wrong_side_is_refused(self, side, stop):
        """A long's stop must be below entry and a short's above; otherwise refused."""
        with pytest.raises(InvalidValue, match="stop-loss"):
            incident(side=side, stop_price=D(stop))

    @pytest.mark.parametrize("pct", ["0", "-1", "100.01", "1000"])
    def test_risk_percent_outside_0_100_is_refused(self, pct):
        """Risk percent must be in (0, 100]."""
        with pytest.raises(InvalidValue):
            incident(risk_percent=D(pct))

    @pytest.mark.parametrize("fee", ["1", "1.5", "-0.001"])
    def test_unusable_fee_rate_is_refused(self, fee):
        """A fee of 100 % or more, or a negative fee, is refused."""
        with pytest.raises(InvalidValue, match="fee rate"):
            incident(fee_rate=D(fee))

    @pytest.mark.parametrize(
        "arg",
        [
            "free_balance",
            "entry_price",
            "stop_price",
            "risk_percent",
            "balance_cap",
            "max_order_value",
            "fee_rate",
        ],
    )
    @pytest.mark.parametrize(
        "value", [D("NaN"), D("-Infinity"), 123.0, "abc", True, D("1e30")], ids=repr
    )
    def test_unusable_numbers_are_safetrade_errors(self, arg, value):
        """Every numeric argument refuses NaN, infinity, floats, text, bools and huge values."""
        with pytest.raises(SafetradeError):
            incident(**{arg: value})


class TestExtremeMagnitudes:
    @pytest.mark.parametrize("arg", ["entry_price", "stop_price", "free_balance", "risk_percent"])
    def test_tiny_values_are_invalid_not_a_decimal_overflow(self, arg):
        """An entry of 1e-999999 raised a bare decimal.Overflow; below 1e-30 is InvalidValue."""
        with pytest.raises(InvalidValue, match="below 1E-30"):
            incident(**{arg: D("1e-999999")})

    def test_stop_a_hair_below_entry_sizes_by_balance(self):
        """A stop 1e-999999 below the entry: no overflow, and the cost is never rounded down.

        The per-unit cost 1.000...01 (a million digits) used to be rounded to 1 at the default
        28 digits, sizing 123 units that cost more than the 123 free.
        """
        entry = D("1." + "0" * 999998 + "1")
        size = incident(entry_price=entry, stop_price=D(1), fee_rate=D(0))
        assert size.limited_by == "free balance"
        assert size.amount == D("122.9999")

    def test_callers_decimal_context_does_not_change_the_size(self):
        """A bot that set decimal.getcontext().prec = 3 gets the same exact numbers."""
        expected = incident()
        with decimal.localcontext() as context:
            context.prec = 3
            context.rounding = decimal.ROUND_UP
            assert incident() == expected
        assert expected.notional == D("55.875456")


class TestSideArgument:
    @pytest.mark.parametrize("side", ["long", "short", None, 0], ids=repr)
    def test_side_that_is_not_a_position_side_is_refused(self, side):
        """side="long" skipped the stop-side check and sized a long with its stop above entry."""
        with pytest.raises(InvalidValue, match="side must be a PositionSide"):
            incident(side=side, stop_price=D("90"))

    def test_position_size_refuses_text_side(self):
        """A PositionSize cannot be built with side="long" either."""
        with pytest.raises(InvalidValue, match="side must be a PositionSide"):
            attrs.evolve(incident(), side="long")


def test_nothing_fits_message_has_plain_numbers_and_the_deciding_bounds_reason():
    """An empty account reads '0 SOL', not '0E+5 SOL', and says which limit decided it."""
    with pytest.raises(SizingError) as exc:
        size_position(
            market=sol_usdt(),
            side=PositionSide.LONG,
            free_balance=Decimal(0),
            entry_price=Decimal("87.36"),
            stop_price=Decimal("85.61"),
            risk_percent=Decimal(1),
        )
    text = str(exc.value)
    assert "no position fits: 0 SOL rounds down to zero at increment 0.0001" in text
    assert "E+" not in text
    assert exc.value.why
    assert "fund the account" in exc.value.fix
