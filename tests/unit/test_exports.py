"""The public surface: every exported name resolves, __all__ is sorted, import stays ccxt-free."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import safetrade
import safetrade.errors

LAZY = sorted(safetrade._LAZY)


def test_all_is_sorted_and_unique():
    assert list(safetrade.__all__) == sorted(safetrade.__all__)
    assert len(set(safetrade.__all__)) == len(safetrade.__all__)


@pytest.mark.parametrize("name", safetrade.__all__)
def test_every_exported_name_resolves(name):
    value = getattr(safetrade, name)
    assert value is not None
    if name != "__version__":
        # the object is the one its defining module exports, not a copy or a stub
        module = importlib.import_module(safetrade._LAZY.get(name) or value.__module__)
        assert getattr(module, name) is value


@pytest.mark.parametrize("name", LAZY)
def test_lazy_names_are_exported_and_load_on_access(name):
    assert name in safetrade.__all__
    assert getattr(safetrade, name).__name__ == name


def test_star_import_gives_exactly_all():
    namespace: dict[str, object] = {}
    exec("from safetrade import *", namespace)  # noqa: S102 - the point is the star import
    namespace.pop("__builtins__")
    assert set(namespace) == set(safetrade.__all__)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'safetrade' has no attribute 'nope'"):
        _ = safetrade.nope  # type: ignore[attr-defined]
    assert not hasattr(safetrade, "size")


def test_every_error_class_is_exported():
    for name in safetrade.errors.__all__:
        assert name in safetrade.__all__
        assert issubclass(getattr(safetrade, name), safetrade.SafetradeError)


def test_version_matches_the_package_metadata():
    from importlib.metadata import version

    assert safetrade.__version__ == version("safetrade")


def _fresh_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_import_safetrade_does_not_import_ccxt():
    result = _fresh_python("import safetrade, sys; assert 'ccxt' not in sys.modules")
    assert result.returncode == 0, result.stderr


def test_import_safetrade_does_not_import_network_libraries():
    code = (
        "import safetrade, sys; "
        "print(sorted(m for m in ('ccxt', 'httpx', 'requests', 'respx') if m in sys.modules))"
    )
    result = _fresh_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_lazy_modules_load_on_first_access_only():
    modules = sorted(set(safetrade._LAZY.values()))
    code = (
        f"import safetrade, sys; mods = {modules!r}; "
        "assert not [m for m in mods if m in sys.modules], 'eager'; "
        "safetrade.Gateway; safetrade.Protector; safetrade.Alert; safetrade.execute_entry; "
        "safetrade.Trader; "
        "assert all(m in sys.modules for m in mods), 'not loaded'"
    )
    result = _fresh_python(code)
    assert result.returncode == 0, result.stderr
