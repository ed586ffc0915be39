"""pytest plugin: a ``fake_kucoin`` fixture for bot authors' own test suites.

Installed with safetrade (entry point ``pytest11``), the way respx offers ``respx_mock``:

.. code-block:: python

    import pytest

    @pytest.mark.fake_kucoin(balances={"USDT": "123"}, prices={"SOL/USDT": "87.36"}, hf=True)
    def test_my_bot_protects_its_entry(fake_kucoin, fake_kucoin_client):
        my_bot.run_once(fake_kucoin_client)           # the real ccxt.kucoin, in-process
        (stop,) = fake_kucoin.stop_orders.values()    # judge by what the exchange saw
        assert stop.status == "NEW"

``fake_kucoin`` is a :class:`~safetrade.testing.FakeKucoin` built from the marker's keyword
arguments (any of its constructor's: ``balances``, ``prices``, ``hf``, ``markets``,
``fill_policy``, ``book``, ``clock``...), closed after the test. ``fake_kucoin_client`` is a
real ``ccxt.kucoin`` bridged to it in-process; ``fake_kucoin_url`` serves it on 127.0.0.1 for
bots that build their own client (override every key of ``urls['api']``).

Needs the ``testing`` extra (``pip install "safetrade[testing]"``); without it the fixtures
fail with that instruction, and nothing is imported at pytest start-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from safetrade.testing import FakeKucoin

MARKER = "fake_kucoin"


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, so ``--strict-markers`` suites accept it."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): set up the fake_kucoin fixture (FakeKucoin keyword arguments)",
    )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    # closest marker wins: module/class markers first, the test's own last
    for marker in reversed(list(request.node.iter_markers(MARKER))):
        if marker.args:
            msg = f"@pytest.mark.{MARKER} takes keyword arguments only, got {marker.args!r}"
            raise pytest.UsageError(msg)
        options.update(marker.kwargs)
    return options


@pytest.fixture
def fake_kucoin(request: pytest.FixtureRequest) -> Iterator[FakeKucoin]:
    """A fresh fake KuCoin for this test, configured by ``@pytest.mark.fake_kucoin(...)``."""
    try:
        from safetrade.testing import FakeKucoin  # noqa: PLC0415 - only when a test asks
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        msg = (
            "the fake_kucoin fixture needs safetrade's testing extra: "
            f'pip install "safetrade[testing]" ({exc})'
        )
        raise pytest.UsageError(msg) from exc
    options = _options(request)
    try:
        fake = FakeKucoin(**options)
    except TypeError as exc:
        msg = f"@pytest.mark.{MARKER}: {exc}"
        raise pytest.UsageError(msg) from exc
    with fake:
        yield fake


@pytest.fixture
def fake_kucoin_client(fake_kucoin: FakeKucoin) -> Any:  # noqa: ANN401 - ccxt is untyped
    """The real ``ccxt.kucoin`` talking to ``fake_kucoin`` in-process (markets not loaded)."""
    return fake_kucoin.ccxt_client()


@pytest.fixture
def fake_kucoin_url(fake_kucoin: FakeKucoin) -> str:
    """``http://127.0.0.1:<port>``: ``fake_kucoin`` served over real HTTP for this test."""
    return fake_kucoin.serve().base_url
