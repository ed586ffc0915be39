"""What ``import safetrade`` loads: the order-building core only; the rest on first use."""

from __future__ import annotations

import subprocess
import sys

import safetrade

# Each loads on first use of one of its names (safetrade._LAZY): their imports (logging,
# pathlib, json, datetime, difflib; ccxt and httpx for the network parts) or their attrs
# classes would otherwise be paid by every `import safetrade`, e.g. each pytest run that
# loads the fake_kucoin plugin.
LAZY_MODULES = sorted(set(safetrade._LAZY.values()))


def _fresh_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_import_safetrade_loads_no_lazy_module():
    code = f"import safetrade, sys; print(sorted(m for m in {LAZY_MODULES!r} if m in sys.modules))"
    result = _fresh_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_order_building_core_is_loaded_by_import_safetrade():
    code = (
        "import safetrade, sys; print(sorted(m for m in sys.modules if m.startswith('safetrade')))"
    )
    result = _fresh_python(code)
    assert result.returncode == 0, result.stderr
    loaded = set(eval(result.stdout))  # noqa: S307 - our own subprocess prints a list literal
    assert {"safetrade.market", "safetrade.sizer", "safetrade.builder", "safetrade.plan"} <= loaded


def test_a_lazy_name_is_a_plain_attribute_after_its_first_use():
    """st.check(...) in a trading loop pays the import lookup once, not at every call."""
    code = (
        "import safetrade, safetrade.guard as guard; "
        "assert 'check' not in vars(safetrade); "
        "f = safetrade.check; "
        "assert vars(safetrade)['check'] is f is guard.check; print('ok')"
    )
    result = _fresh_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
