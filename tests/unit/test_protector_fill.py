"""Unit tests for safetrade.protector's value types (the failure policy is tested end to end
against the fake KuCoin in tests/integration)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from safetrade import InvalidValue, PositionSide
from safetrade.fills import Fill


class TestFill:
    @pytest.mark.parametrize("side", ["long", "buy", None], ids=repr)
    def test_side_must_be_a_position_side(self, side):
        """Fill(side="long") would have protected a long with buy orders (exit side != LONG)."""
        with pytest.raises(InvalidValue, match="side must be a PositionSide"):
            Fill(symbol="SOL/USDT", side=side, amount=Decimal(1), average_price=Decimal(87))

    def test_position_side_is_accepted(self):
        """The documented way: a PositionSide member."""
        fill = Fill(
            symbol="SOL/USDT", side=PositionSide.LONG, amount=Decimal(1), average_price=Decimal(87)
        )
        assert fill.side is PositionSide.LONG
