"""The README's bot, end to end, against the fake KuCoin (no network, no money).

Run: ``python examples/quickstart.py``. It replays the incident's numbers: 123 USDT free, 1 %
risk, SOL/USDT at 87.36, stop 85.61, take-profit 90.1353 (sent as 90.13, KuCoin's tick).
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

import safetrade as st
from safetrade.testing import FakeKucoin


def main() -> st.Protected | st.Flattened | st.Halted | None:
    with (
        tempfile.TemporaryDirectory() as workdir,
        FakeKucoin(balances={"USDT": "123"}, prices={"SOL/USDT": "87.36"}) as fake,
    ):
        settings = st.load_settings(
            env={
                "TRADING_MODE": "paper",
                "ACCOUNT_BALANCE_USD": "123",
                "RISK_PERCENT": "1",
                "MAX_OPEN_POSITIONS": "1",
                "SAFETRADE_KILL_SWITCH_FILE": str(Path(workdir) / "kill-switch.json"),
            }
        )
        # paper mode trades on the venue it is given, here the fake KuCoin; live mode builds
        # the KuCoin gateway itself, only after the certification gate
        trader = st.Trader.start(
            settings, lambda: st.Gateway(fake.ccxt_client()), symbol="SOL/USDT", bot_package="mybot"
        )
        result = trader.trade(
            stop_price=Decimal("85.61"),
            take_profit_price=Decimal("90.1353"),
            signal_strength=Decimal("0.5"),
        )
        if result.plan is not None:
            print("plan:", result.plan.size.explain())
        outcome = result.outcome
        match outcome:
            case st.Protected():
                print("protected:", outcome.stop_loss.trigger_price, outcome.take_profit)
            case st.Flattened():
                print("flattened:", outcome.reason)
            case st.Halted():
                print("HALTED:", outcome.reason)
            case None:
                print("nothing sent:", result.refusal)
        trader.tick()  # a real bot runs this on every loop
        return outcome


if __name__ == "__main__":
    main()
