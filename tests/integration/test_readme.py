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
from safetrade.paper import PaperStore, PaperVenue, PublicKucoin
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
    """The fake KuCoin: the step-by-step gateway, and the public data of the paper venue.

    The README's ten lines run in paper mode, so they trade on the paper venue, whose public
    prices come from this fake served on 127.0.0.1 (SAFETRADE_PAPER_MARKET_DATA_URL).
    """
    with FakeKucoin(balances={"USDT": "123"}, prices={"SOL/USDT": "87.36"}) as fake:

        def kucoin(**_credentials: str) -> st.Gateway:
            return st.Gateway(fake.ccxt_client())

        monkeypatch.setattr(st.Gateway, "kucoin", staticmethod(kucoin))
        monkeypatch.chdir(tmp_path)
        (tmp_path / "mybot").mkdir()  # the README's bot package, digested by paper mode
        (tmp_path / "mybot" / "__init__.py").write_text('"""mybot"""\n', encoding="utf-8")
        monkeypatch.syspath_prepend(str(tmp_path))
        fake.serve()
        yield fake


def _served(fake: FakeKucoin) -> str:
    return str(fake.ccxt_client_over_loopback().urls["api"]["public"])  # the fixture's server


def _write_env(tmp_path: Path, kill_switch: Path, extra: str = "", *, public: str) -> None:
    (tmp_path / ".env").write_text(
        "TRADING_MODE=paper\nACCOUNT_BALANCE_USD=123\nRISK_PERCENT=1\nMAX_OPEN_POSITIONS=1\n"
        f"SAFETRADE_KILL_SWITCH_FILE={kill_switch}\nSAFETRADE_PAPER_MARKET_DATA_URL={public}\n"
        f"{extra}",
        encoding="utf-8",
    )


def _paper_orders(namespace: dict[str, Any]) -> dict[str, Any]:
    paper = namespace["trader"].paper
    assert paper is not None, "paper mode must trade on the paper venue"
    return {**paper.engine.orders, **paper.engine.stop_orders}


def test_readme_bot_trades_the_incident_safely(fake_kucoin: FakeKucoin, tmp_path: Path) -> None:
    """The ten lines plan 0.6396 SOL, as the README says, and end protected on the exchange."""
    _write_env(tmp_path, tmp_path / "kill-switch.json", public=_served(fake_kucoin))
    namespace: dict[str, Any] = {}
    exec(_block("## A bot in ten lines"), namespace)  # noqa: S102 - the README's own code
    result = namespace["result"]
    assert result.plan.entry.amount == Decimal("0.6396")
    assert result.decision.allowed
    assert isinstance(result.outcome, st.Protected)
    paper = namespace["trader"].paper
    triggers = sorted(s.stop_price for s in paper.engine.stop_orders.values())
    assert triggers == [Decimal("85.61"), Decimal("90.13")]  # the take-profit on the tick
    assert fake_kucoin.orders == {}  # paper mode: nothing reached the exchange
    assert fake_kucoin.stop_orders == {}


def test_readme_bot_refuses_while_the_kill_switch_is_engaged(
    fake_kucoin: FakeKucoin, tmp_path: Path
) -> None:
    """README: after Halted, "kill switch engaged": the README's own bot must then send nothing."""
    switch = tmp_path / "kill-switch.json"
    switch.write_text(json.dumps({"engaged": True, "reason": "halted by the protector"}))
    _write_env(tmp_path, switch, public=_served(fake_kucoin))
    namespace: dict[str, Any] = {}
    exec(_block("## A bot in ten lines"), namespace)  # noqa: S102 - the README's own code
    assert not namespace["result"].sent
    assert "kill switch engaged" in namespace["result"].refusal
    assert _paper_orders(namespace) == {}


@pytest.mark.parametrize(
    ("setting", "reason"),
    [
        ("MIN_SIGNAL_STRENGTH=0.6", "below min_signal_strength 0.6"),
        ("MAX_ORDER_VALUE_USD=20", "order value"),
        ("ACCOUNT_BALANCE_USD=10000", "balance"),
    ],
)
def test_readme_bot_honours_the_limits_the_old_one_dropped(
    fake_kucoin: FakeKucoin, tmp_path: Path, setting: str, reason: str
) -> None:
    """MIN_SIGNAL_STRENGTH, MAX_ORDER_VALUE_USD, the balance check: set in .env, they hold."""
    public = _served(fake_kucoin)
    _write_env(tmp_path, tmp_path / "kill-switch.json", extra=setting + "\n", public=public)
    env = (tmp_path / ".env").read_text()
    if setting.startswith("ACCOUNT_BALANCE_USD"):
        # the paper account started with 123 USDT; .env now claims 10000 (the Feb 6 default)
        PaperVenue(
            store=PaperStore(tmp_path / ".safetrade" / "paper.sqlite3"),
            source=PublicKucoin.at(public),
            symbols=["SOL/USDT"],
            starting_balance=Decimal(123),
            safetrade_digest="s",
            bot_digest="b",
        ).close()
        (tmp_path / ".env").write_text(env.replace("ACCOUNT_BALANCE_USD=123\n", ""))
    namespace: dict[str, Any] = {}
    exec(_block("## A bot in ten lines"), namespace)  # noqa: S102 - the README's own code
    result = namespace["result"]
    if setting.startswith("MAX_ORDER_VALUE_USD"):
        # the cap shrinks the position instead of refusing it
        assert result.plan.entry.amount * Decimal("87.36") <= 20
        return
    assert not result.sent, result
    assert reason in result.refusal.lower(), result.refusal
    assert _paper_orders(namespace) == {}


def test_readme_step_by_step_snippets_run(fake_kucoin: FakeKucoin, tmp_path: Path) -> None:
    """The low-level flow plans the same 0.6396 SOL and the protect snippet ends Protected."""
    _write_env(tmp_path, tmp_path / "kill-switch.json", public=_served(fake_kucoin))
    namespace: dict[str, Any] = {}
    exec(_block("## The same flow, step by step"), namespace)  # noqa: S102 - the README's own code
    assert namespace["plan"].entry.amount == Decimal("0.6396")
    assert namespace["decision"].allowed
    snippet = _block("### Entering and protecting a position").replace(
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


def test_the_paper_section_fits_in_half_a_page() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Paper trading") :]
    lines = section[: section.index("\n## ", 1)].strip().splitlines()
    assert len(lines) <= 30, len(lines)
    for promise in ("SAFETRADE_PAPER_DB", "safetrade paper status", "min_days", "no key"):
        assert promise in section
