"""Unit tests for safetrade.rounder with the incident's numbers on KuCoin's SOL-USDT grid."""

from __future__ import annotations

from decimal import Decimal

import pytest

from safetrade import InvalidValue, MarketSpec, PositionSide, PricePurpose, RoundingError
from safetrade.rounder import ceil_to_step, floor_to_step, is_on_grid, round_amount, round_price
from tests.strategies import sol_usdt

LONG, SHORT = PositionSide.LONG, PositionSide.SHORT
D = Decimal


class TestIncidentNumbers:
    def test_long_take_profit_rounds_down_toward_entry(self):
        """Feb 6: TP 90.1353 was sent unrounded; on tick 0.01 a long's TP becomes 90.13.

        90.1353 lies between the ticks 90.13 and 90.14; a long's take-profit rounds down,
        toward the entry, so it stays reachable.
        """
        tp = round_price(D("90.1353"), sol_usdt(), purpose=PricePurpose.TAKE_PROFIT, side=LONG)
        assert tp == D("90.13")
        assert str(tp) == "90.13"

    def test_short_take_profit_rounds_up_toward_entry(self):
        """The same raw target is 90.14 for a short: up is toward a short's (higher) entry."""
        tp = round_price(D("90.1353"), sol_usdt(), purpose=PricePurpose.TAKE_PROFIT, side=SHORT)
        assert tp == D("90.14")

    def test_stop_already_on_the_tick_is_unchanged(self):
        """The incident's stop 85.61 is already on the 0.01 grid and stays 85.61."""
        sl = round_price(D("85.61"), sol_usdt(), purpose=PricePurpose.STOP_LOSS, side=LONG)
        assert sl == D("85.61")

    def test_amount_4_9344_is_on_the_real_grid(self):
        """4.9344 SOL is valid: SOL-USDT's step is 0.0001, not the '1 decimal' the bot assumed."""
        assert round_amount(D("4.9344"), sol_usdt()) == D("4.9344")
        assert is_on_grid(D("4.9344"), sol_usdt().amount_increment)
        assert not is_on_grid(D("4.9344"), D("0.1"))

    def test_amount_with_extra_digit_rounds_down(self):
        """4.93449 SOL rounds down to 4.9344, never up to 4.9345."""
        assert round_amount(D("4.93449"), sol_usdt()) == D("4.9344")


class TestRoundPriceDirection:
    # (purpose, side, raw, expected) on tick 0.01. Expected derived from the safety rule:
    # long entry down (pay less), long SL up (less risk), long TP down (reachable); shorts mirror.
    CASES = (
        (PricePurpose.ENTRY, LONG, "87.365", "87.36"),
        (PricePurpose.ENTRY, SHORT, "87.361", "87.37"),
        (PricePurpose.STOP_LOSS, LONG, "85.605", "85.61"),
        (PricePurpose.STOP_LOSS, SHORT, "89.119", "89.11"),
        (PricePurpose.TAKE_PROFIT, LONG, "90.1399", "90.13"),
        (PricePurpose.TAKE_PROFIT, SHORT, "84.001", "84.01"),
    )

    @pytest.mark.parametrize(
        ("purpose", "side", "raw", "expected"), CASES, ids=lambda v: getattr(v, "value", v)
    )
    def test_direction_table(self, purpose, side, raw, expected):
        """Each purpose/side rounds in the documented safe direction."""
        assert round_price(D(raw), sol_usdt(), purpose=purpose, side=side) == D(expected)

    def test_long_stop_rounding_never_adds_risk(self):
        """A long's stop never rounds down (further from entry = more loss than planned)."""
        raw = D("85.6001")
        assert round_price(raw, sol_usdt(), purpose=PricePurpose.STOP_LOSS, side=LONG) > raw

    def test_price_below_one_tick_rounding_to_zero_is_refused(self):
        """A long's TP of 0.004 on a 0.01 tick would become 0 and is refused."""
        with pytest.raises(RoundingError, match="rounds to zero"):
            round_price(D("0.004"), sol_usdt(), purpose=PricePurpose.TAKE_PROFIT, side=LONG)

    def test_price_below_one_tick_rounding_up_is_one_tick(self):
        """A long's stop of 0.004 rounds up to one tick, 0.01, not to zero."""
        sl = round_price(D("0.004"), sol_usdt(), purpose=PricePurpose.STOP_LOSS, side=LONG)
        assert sl == D("0.01")

    @pytest.mark.parametrize(
        "price", [D(0), D(-1), D("NaN"), D("Infinity"), 90.1353, "abc", None], ids=repr
    )
    def test_unusable_prices_are_refused(self, price):
        """Zero, negative, NaN, infinite, float, text and None prices raise InvalidValue."""
        with pytest.raises(InvalidValue):
            round_price(price, sol_usdt(), purpose=PricePurpose.ENTRY, side=LONG)


class TestRoundAmount:
    def test_below_one_increment_is_refused(self):
        """0.00009 SOL would round down to zero on a 0.0001 grid; that is refused."""
        with pytest.raises(RoundingError, match="below one increment"):
            round_amount(D("0.00009"), sol_usdt())

    @pytest.mark.parametrize("amount", [D(0), D("-0.5"), D("NaN"), 4.9344, True], ids=repr)
    def test_unusable_amounts_are_refused(self, amount):
        """Zero, negative, NaN, float and bool amounts raise InvalidValue."""
        with pytest.raises(InvalidValue):
            round_amount(amount, sol_usdt())

    def test_result_prints_on_the_grid(self):
        """The result is quantized to the step's exponent: 1.5 prints as 1.5000."""
        assert str(round_amount(D("1.5"), sol_usdt())) == "1.5000"


class TestSteps:
    def test_floor_and_ceil_on_non_decimal_step(self):
        """With step 0.05, 1.23 lies between 1.20 and 1.25."""
        assert floor_to_step(D("1.23"), D("0.05")) == D("1.20")
        assert ceil_to_step(D("1.23"), D("0.05")) == D("1.25")

    def test_integer_step(self):
        """With step 5, 12 floors to 10 and ceils to 15."""
        assert floor_to_step(D(12), D(5)) == D(10)
        assert ceil_to_step(D(12), D(5)) == D(15)

    def test_value_on_grid_is_unchanged(self):
        """A multiple of the step is returned as is by both directions."""
        assert floor_to_step(D("1.25"), D("0.05")) == D("1.25")
        assert ceil_to_step(D("1.25"), D("0.05")) == D("1.25")

    def test_is_on_grid(self):
        """1.25 is a multiple of 0.05; 1.26 is not."""
        assert is_on_grid(D("1.25"), D("0.05"))
        assert not is_on_grid(D("1.26"), D("0.05"))

    @pytest.mark.parametrize(
        ("value", "step"),
        [
            (D(1), D(0)),
            (D(1), D(-1)),
            (D("NaN"), D(1)),
            (D(1), D("Infinity")),
            (1.0, D(1)),
            (D(1), 0.01),
            ("1", D(1)),
        ],
        ids=repr,
    )
    def test_unusable_arguments_are_refused(self, value, step):
        """Non-Decimal, non-finite or non-positive steps raise InvalidValue in every function."""
        for fn in (floor_to_step, ceil_to_step, is_on_grid):
            with pytest.raises(InvalidValue):
                fn(value, step)


class TestBounds:
    """Steps below 1e-30 and absurdly wide values: a named error, never a bare decimal one."""

    @pytest.mark.parametrize("step", [D("1e-100"), D("1e-31"), D("9.9e-31")], ids=str)
    def test_step_below_the_minimum_increment_is_refused(self, step):
        """floor_to_step(1, 1e-100) used to raise a bare decimal.InvalidOperation."""
        for fn in (floor_to_step, ceil_to_step, is_on_grid):
            with pytest.raises(InvalidValue, match="smallest supported increment 1E-30"):
                fn(D(1), step)

    def test_step_at_the_minimum_increment_works(self):
        """1e-30, the documented bound, is exact even for the largest value (1e45 steps)."""
        step = D("1e-30")
        value = D("999999999999999.123456789012345678901234567890123")
        assert floor_to_step(value, step) == D("999999999999999.123456789012345678901234567890")
        assert ceil_to_step(value, step) == D("999999999999999.123456789012345678901234567891")
        assert not is_on_grid(value, step)

    def test_value_of_more_than_1e100_steps_is_a_rounding_error(self):
        """1e200 on a step of 1 is a unit mistake: RoundingError, not decimal.InvalidOperation."""
        for fn in (floor_to_step, ceil_to_step, is_on_grid):
            with pytest.raises(RoundingError, match="more than 1e100 steps"):
                fn(D("1e200"), D(1))

    def test_values_with_more_digits_than_any_context_round_exactly(self):
        """0.999... (100 nines) floors to 0, not 1; 1.000...01 ceils to 2, not 1."""
        nines = D("0." + "9" * 100)
        assert floor_to_step(nines, D(1)) == 0
        assert ceil_to_step(nines, D(1)) == 1
        just_above_one = D("1." + "0" * 100 + "1")
        assert floor_to_step(just_above_one, D(1)) == 1
        assert ceil_to_step(just_above_one, D(1)) == 2
        assert not is_on_grid(just_above_one, D("0.01"))

    def test_round_price_on_the_smallest_tick(self):
        """A market with a 1e-30 tick still rounds exactly and keeps the tick's exponent."""
        market = MarketSpec(
            symbol="X/Y", market_id="X-Y", base="X", quote="Y",
            price_increment=D("1e-30"), amount_increment=D("1e-30"),
        )  # fmt: skip
        price = round_price(
            D("1.00000000000000000000000000000049"),
            market,
            purpose=PricePurpose.STOP_LOSS,
            side=LONG,
        )
        assert str(price) == "1.000000000000000000000000000001"


class TestEnumArguments:
    @pytest.mark.parametrize(
        ("purpose", "side", "name"),
        [
            (PricePurpose.STOP_LOSS, "long", "side must be a PositionSide"),
            (PricePurpose.STOP_LOSS, None, "side must be a PositionSide"),
            ("stop-loss", LONG, "purpose must be a PricePurpose"),
            (LONG, LONG, "purpose must be a PricePurpose"),
        ],
        ids=repr,
    )
    def test_round_price_refuses_anything_but_enum_members(self, purpose, side, name):
        """round_price(side="long") raised a bare KeyError; now an InvalidValue naming it."""
        with pytest.raises(InvalidValue, match=name):
            round_price(D("85.605"), sol_usdt(), purpose=purpose, side=side)


def _on_ticks(tick: str, step: str = "0.0001") -> MarketSpec:
    import attrs

    return attrs.evolve(sol_usdt(), price_increment=D(tick), amount_increment=D(step))


class TestStepsThatAreNotPowersOfTen:
    """The market grid's own arithmetic for ticks like 0.05 (1/0.05 = 20 is a finite decimal,
    so a ceiling counts steps) and 0.03 (1/0.03 is not: quotient and remainder)."""

    @pytest.mark.parametrize(
        ("tick", "raw", "stop", "take_profit"),
        [
            ("0.05", "90.1353", "90.15", "90.10"),  # between ticks: stop up, target down
            ("0.05", "90.15", "90.15", "90.15"),  # on a tick: unchanged both ways
            ("0.03", "90.1353", "90.15", "90.12"),  # 90.12 = 3004 x 0.03, 90.15 = 3005 x 0.03
            ("0.03", "90.15", "90.15", "90.15"),
            ("0.25", "0.3", "0.50", "0.25"),
            ("5E+1", "87.37", "1.0E+2", "5E+1"),
        ],
    )
    def test_a_long_stop_rounds_up_and_its_target_down_written_on_the_tick(
        self, tick, raw, stop, take_profit
    ):
        market = _on_ticks(tick)
        sl = round_price(D(raw), market, purpose=PricePurpose.STOP_LOSS, side=LONG)
        tp = round_price(D(raw), market, purpose=PricePurpose.TAKE_PROFIT, side=LONG)
        assert (str(sl), str(tp)) == (stop, take_profit)
        assert sl.as_tuple().exponent == tp.as_tuple().exponent == D(tick).as_tuple().exponent

    def test_a_price_below_one_tick_rounds_to_zero_and_is_refused(self):
        market = _on_ticks("0.05")
        with pytest.raises(RoundingError, match="rounds to zero"):
            round_price(D("0.04"), market, purpose=PricePurpose.TAKE_PROFIT, side=LONG)
        assert round_price(D("0.04"), market, purpose=PricePurpose.STOP_LOSS, side=LONG) == D(
            "0.05"
        )

    def test_amounts_floor_on_a_half_step(self):
        market = _on_ticks("0.01", step="0.5")
        assert str(round_amount(D("4.9344"), market)) == "4.5"
        with pytest.raises(RoundingError):
            round_amount(D("0.4"), market)

    @pytest.mark.parametrize(
        ("value", "step", "down", "up"),
        [
            ("-0.001", "0.05", "-0.05", "0.00"),  # a small negative rounds up to +0.00
            ("-0", "0.05", "0.00", "0.00"),
            ("0", "0.03", "0.00", "0.00"),
            ("-1.23", "0.05", "-1.25", "-1.20"),
            ("-1.24", "0.03", "-1.26", "-1.23"),
            ("1.23", "0.03", "1.23", "1.23"),
            ("1.24", "0.03", "1.23", "1.26"),
            ("1.23", "0.05", "1.20", "1.25"),
            ("1.25", "0.05", "1.25", "1.25"),
        ],
    )
    def test_the_grid_agrees_with_the_generic_path_for_signs_and_zeros(self, value, step, down, up):
        from safetrade._grid import StepGrid

        grid = StepGrid(D(step))
        assert str(grid.to_step(D(value), False)) == down == str(floor_to_step(D(value), D(step)))
        assert str(grid.to_step(D(value), True)) == up == str(ceil_to_step(D(value), D(step)))

    def test_a_value_1e100_steps_wide_is_a_unit_mistake(self):
        from safetrade._grid import StepGrid

        with pytest.raises(RoundingError, match=r"steps of 0\.05"):
            StepGrid(D("0.05")).to_step(D("1E+99"), False)

    def test_a_step_below_the_smallest_increment_is_refused(self):
        with pytest.raises(InvalidValue, match="smallest supported increment"):
            floor_to_step(D(1), D("1E-31"))
