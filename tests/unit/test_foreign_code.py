"""Code Python would run under a certified name that is not the certified source.

Each test is a bypass a tamper review reproduced against the live gate: a sourceless package
that shadows a module, a one-module bot's cached bytecode, a standard module shadowed from the
working directory. Each was accepted as valid before.
"""

from __future__ import annotations

import compileall
import marshal
import py_compile
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from safetrade.certification.bytecode import foreign_bytecode, shadowed_standard_modules
from safetrade.certification.digest import diff_trees, tree_files
from safetrade.certification.provenance import measure_running_code
from safetrade.certification.suite_cache import project_files


def _package(site: Path, name: str, files: dict[str, str]) -> Path:
    root = site / name
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_a_sourceless_package_that_shadows_a_module_is_digested_and_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    bot = _package(site, "shadowbot", {"__init__.py": "", "rounder.py": "UP = True\n"})
    monkeypatch.syspath_prepend(str(site))
    clean = measure_running_code("shadowbot")
    assert clean.bytecode_problems == ()
    # Python imports shadowbot/rounder/__init__.pyc instead of shadowbot/rounder.py
    evil = tmp_path / "evil.py"
    evil.write_text("UP = False\n", encoding="utf-8")
    (bot / "rounder").mkdir()
    py_compile.compile(str(evil), cfile=str(bot / "rounder" / "__init__.pyc"), doraise=True)
    tampered = measure_running_code("shadowbot")
    assert tampered.bytecode_problems == (
        "shadowbot/rounder/__init__.pyc: bytecode outside __pycache__ runs without a source file",
    )
    assert diff_trees(clean.bot_files, tampered.bot_files).added == ("rounder/__init__.pyc",)
    # and it is an input of the suite: a cached passing run is not reused with it in place
    assert "rounder/__init__.pyc" in project_files(bot)


def test_a_one_module_bots_cached_bytecode_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    module = site / "onefilebot.py"
    module.write_text("SIZE = 1\n", encoding="utf-8")
    compileall.compile_file(str(module), quiet=1)
    monkeypatch.syspath_prepend(str(site))
    assert measure_running_code("onefilebot").bytecode_problems == ()
    (pyc,) = (site / "__pycache__").glob("onefilebot.*.pyc")
    header = pyc.read_bytes()[:16]  # the source's mtime and size: Python runs it
    pyc.write_bytes(header + marshal.dumps(compile("SIZE = 10\n", str(module), "exec")))
    (problem,) = measure_running_code("onefilebot").bytecode_problems
    assert problem.startswith("onefilebot/__pycache__/onefilebot.")
    assert problem.endswith("bytecode differs from onefilebot.py (it would run instead)")
    assert foreign_bytecode(module) == [problem.removeprefix("onefilebot/")]


def test_a_standard_module_loaded_from_elsewhere_is_named() -> None:
    assert shadowed_standard_modules() == []  # this very test process: nothing shadowed
    fake = types.ModuleType("decimal")
    fake.__file__ = "/tmp/bot-folder/decimal.py"  # noqa: S108 - a path, never opened
    builtin = types.ModuleType("sys")  # no __file__: part of the interpreter
    (problem,) = shadowed_standard_modules(
        {"decimal": fake, "sys": builtin, "safetrade": sys.modules["safetrade"]}
    )
    assert problem.startswith("decimal was imported from /tmp/bot-folder/decimal.py, not from")


def test_a_decimal_py_installed_in_site_packages_is_no_standard_module() -> None:
    """A venv's platstdlib (its own lib/pythonX.Y) holds its site-packages: not the stdlib."""
    import sysconfig

    fake = types.ModuleType("decimal")
    fake.__file__ = str(Path(sysconfig.get_paths()["purelib"]) / "decimal.py")
    (problem,) = shadowed_standard_modules({"decimal": fake})
    assert problem.startswith("decimal was imported from "), problem
    assert "site-packages" in problem


def test_a_standard_module_linked_from_elsewhere_by_the_distribution_is_standard(
    tmp_path: Path,
) -> None:
    """Debian's /usr/lib/python3.11/sitecustomize.py is a link to /etc/python3.11/."""
    from safetrade.certification import bytecode

    home = tmp_path / "lib" / "python3.11"
    (home / "site-packages").mkdir(parents=True)
    (tmp_path / "etc").mkdir()
    target = tmp_path / "etc" / "sitecustomize.py"
    target.write_text("")
    (home / "sitecustomize.py").symlink_to(target)
    (home / "site-packages" / "decimal.py").write_text("")
    bytecode.in_standard_library.cache_clear()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(bytecode, "_stdlib_homes", lambda: (str(home),))
            patch.setattr(bytecode, "site_dirs", lambda: (str(home / "site-packages"),))
            assert bytecode.in_standard_library(str(home / "sitecustomize.py"))
            assert not bytecode.in_standard_library(str(target))  # reached from elsewhere
            assert not bytecode.in_standard_library(str(home / "site-packages" / "decimal.py"))
    finally:
        bytecode.in_standard_library.cache_clear()


def test_a_decimal_py_in_the_working_directory_is_refused_at_start_up(tmp_path: Path) -> None:
    # what `python -m bot` does in a folder holding a decimal.py: the folder comes first
    (tmp_path / "decimal.py").write_text(
        "from _pydecimal import *  # noqa\nfrom _pydecimal import __all__  # noqa\n",
        encoding="utf-8",
    )
    (tmp_path / "probe.py").write_text(
        textwrap.dedent(
            """
            from safetrade.certification.provenance import measure_running_code
            print("\\n".join(measure_running_code("safetrade.reference_bot").bytecode_problems))
            """
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "probe"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert f"decimal was imported from {tmp_path.resolve() / 'decimal.py'}" in done.stdout


def test_tree_digests_still_ignore_what_pycache_holds(tmp_path: Path) -> None:
    bot = _package(tmp_path, "cachedbot", {"__init__.py": "", "a.py": "A = 1\n"})
    before = tree_files(bot)
    compileall.compile_dir(bot, quiet=1)
    assert tree_files(bot) == before
    assert foreign_bytecode(bot) == []
