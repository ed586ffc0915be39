"""Fixtures for the fake-KuCoin integration tests: a fresh fake and a real ccxt client per test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from safetrade.testing import FakeKucoin

FIXTURE_BOTS = Path(__file__).parents[1] / "fixtures" / "bots"


@pytest.fixture
def ex() -> Iterator[FakeKucoin]:
    """A fake with 1000 USDT and SOL/USDT at 100."""
    with FakeKucoin(balances={"USDT": Decimal(1000)}, prices={"SOL/USDT": Decimal(100)}) as fake:
        yield fake


@pytest.fixture
def client(ex: FakeKucoin) -> Any:
    """The real ccxt.kucoin, markets loaded from the fake."""
    kucoin = ex.ccxt_client()
    kucoin.load_markets()
    return kucoin


# each folder holds one distribution whose package has the folder's name
FIXTURE_BOT_FOLDERS = ("incident_bot", "broken_bots", "ccxt_bots", "async_bot")


@pytest.fixture
def bot_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The fixture bots importable, as if installed; their modules forgotten afterwards."""
    for folder in FIXTURE_BOT_FOLDERS:
        monkeypatch.syspath_prepend(str(FIXTURE_BOTS / folder))
    yield
    for name in [m for m in sys.modules if m.split(".")[0] in FIXTURE_BOT_FOLDERS]:
        del sys.modules[name]
