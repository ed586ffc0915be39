"""The README's flow, end to end, against the fake KuCoin (no network, no money).

Run: ``python examples/quickstart.py``. It replays the incident's numbers: 123 USDT free, 1 %
risk, SOL/USDT at 87.36, stop 85.61, take-profit 90.1353.
"""

from __future__ import annotations

from decimal import Decimal

import safetrade as st
from safetrade.testing import FakeKucoin


def main() -> st.Protected | st.Flattened | st.Halted | None:
    settings = st.load_settings(
        env={
            "TRADING_MODE": "paper",
            "ACCOUNT_BALANCE_USD": "123",
            "RISK_PERCENT": "1",
            "MAX_OPEN_POSITIONS": "1",
        }
    )
    with FakeKucoin(balances={"USDT": "123"}, prices={"SOL/USDT": "87.36"}) as fake:
        gateway = st.Gateway(fake.ccxt_client())  # in production: st.Gateway.kucoin(...)
        market = gateway.load_market("SOL/USDT")
        free, last = gateway.free_balance("USDT"), gateway.last_price("SOL/USDT")
        kill_switch = st.KillSwitch()  # in production: st.KillSwitch(settings.kill_switch_file)
        plan = st.plan_trade(
            market,
            side=st.PositionSide.LONG,
            free_balance=free,
            entry_price=last,
            stop_price=Decimal("85.61"),
            take_profit_price=Decimal("90.1353"),
            risk_percent=settings.risk_percent,
            client_oid=st.new_client_oid(st.OrderPurpose.ENTRY),
        )
        decision = st.check(
            plan,
            st.AccountState(
                free_quote=free,
                configured_balance=settings.account_balance_usd,
                last_price=last,
                open_positions=0,  # a real bot counts its positions from the exchange
                open_position_value=Decimal(0),
                kill_switch_reason=kill_switch.reason,
            ),
            st.GuardLimits(
                risk_percent=settings.risk_percent, max_open_positions=settings.max_open_positions
            ),
        )
        decision.raise_if_refused()
        print("plan:", plan.size.explain())
        entry = st.execute_entry(gateway, plan, decision)  # sends only what the guard allowed
        if entry.fill is None:
            print("nothing filled:", entry.error)
            return None
        protector = st.Protector(gateway, kill_switch=kill_switch)
        outcome = protector.protect(
            entry.fill, stop_price=plan.stop_loss_price, take_profit_price=plan.take_profit_price
        )
        match outcome:
            case st.Protected():
                print("protected:", outcome.stop_loss.trigger_price, outcome.take_profit)
            case st.Flattened():
                print("flattened:", outcome.reason)
            case st.Halted():
                print("HALTED:", outcome.reason)
        return outcome


if __name__ == "__main__":
    main()
