"""The README's example runs and does what the README says."""

from __future__ import annotations

import runpy
from decimal import Decimal
from pathlib import Path

import safetrade as st

EXAMPLE = Path(__file__).parents[2] / "examples" / "quickstart.py"


def test_quickstart_protects_the_incident_trade(capsys):
    """The quickstart sizes 0.6396 SOL from 123 USDT and ends Protected at 85.61 / 90.13."""
    outcome = runpy.run_path(str(EXAMPLE))["main"]()
    assert isinstance(outcome, st.Protected)
    assert outcome.fill.amount == Decimal("0.6396")
    assert outcome.stop_loss.trigger_price == Decimal("85.61")
    assert outcome.take_profit is not None
    assert outcome.take_profit.trigger_price == Decimal("90.13")
    assert "0.6396 SOL/USDT @ 87.36" in capsys.readouterr().out
