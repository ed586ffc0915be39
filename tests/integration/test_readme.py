"""The README's bot snippets run as written against the fake KuCoin and keep its promises.

``st.Gateway.kucoin`` is pointed at the fake (the snippets themselves are executed verbatim),
and ``.env`` is a file in a temporary working directory.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import safetrade as st
from safetrade.testing import FakeKucoin

README = Path(__file__).parents[2] / "README.md"


def _block(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, f"no python block under {heading!r}"
    return match.group(1)


@pytest.fixture
def fake_kucoin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    with FakeKucoin(balances={"USDT": "123"}, prices={"SOL/USDT": "87.36"}) as fake:

        def kucoin(**_credentials: str) -> st.Gateway:
            return st.Gateway(fake.ccxt_client())

        monkeypatch.setattr(st.Gateway, "kucoin", staticmethod(kucoin))
        monkeypatch.chdir(tmp_path)
        yield fake


def _write_env(tmp_path: Path, kill_switch: Path) -> None:
    (tmp_path / ".env").write_text(
        "TRADING_MODE=paper\nACCOUNT_BALANCE_USD=123\nRISK_PERCENT=1\nMAX_OPEN_POSITIONS=1\n"
        f"SAFETRADE_KILL_SWITCH_FILE={kill_switch}\n",
        encoding="utf-8",
    )


def test_readme_bot_plans_the_incident_trade(fake_kucoin: FakeKucoin, tmp_path: Path) -> None:
    """The ten lines plan 0.6396 SOL, as the README says, and pass the guard."""
    _write_env(tmp_path, tmp_path / "kill-switch.json")
    namespace: dict[str, Any] = {}
    exec(_block("## A bot in ten lines"), namespace)  # noqa: S102 - the README's own code
    assert namespace["plan"].entry.amount == Decimal("0.6396")
    assert namespace["decision"].allowed


def test_readme_bot_refuses_while_the_kill_switch_is_engaged(
    fake_kucoin: FakeKucoin, tmp_path: Path
) -> None:
    """README: after Halted, "kill switch engaged": the README's own bot must then send nothing."""
    switch = tmp_path / "kill-switch.json"
    switch.write_text(json.dumps({"engaged": True, "reason": "halted by the protector"}))
    _write_env(tmp_path, switch)
    with pytest.raises(st.GuardRefused, match="kill switch engaged"):
        exec(_block("## A bot in ten lines"), {})  # noqa: S102 - the README's own code
    assert fake_kucoin.orders == {}


def test_readme_protection_snippet_runs(fake_kucoin: FakeKucoin, tmp_path: Path) -> None:
    """The entry-and-protect snippet, run after the ten lines, ends Protected."""
    _write_env(tmp_path, tmp_path / "kill-switch.json")
    namespace: dict[str, Any] = {}
    exec(_block("## A bot in ten lines"), namespace)  # noqa: S102 - the README's own code
    snippet = _block("## Entering and protecting a position").replace(
        'st.WebhookAlerter("https://hooks.example.com/...")', "lambda alert: None"
    )
    exec(snippet, namespace)  # noqa: S102 - the README's own code
    assert isinstance(namespace["outcome"], st.Protected)


def test_every_python_block_in_the_readme_is_valid_python() -> None:
    """Blocks not run above (the contract adapter for a plain ccxt bot) at least compile."""
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    assert len(blocks) >= 3
    for number, block in enumerate(blocks, 1):
        compile(block, f"README.md python block {number}", "exec")
