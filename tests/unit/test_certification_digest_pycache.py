"""What the digests cannot see must be refused: namespace portions, files kept in __pycache__.

Both were reproduced against the gate: a namespace bot was digested from its first folder only
(editing a module in the second kept every digest), and a ``strategy.json`` a bot reads from
``__pycache__`` changed its behaviour with every digest and the bytecode check still passing.
"""

from __future__ import annotations

import compileall
from pathlib import Path

import pytest

from safetrade.certification.bytecode import foreign_bytecode
from safetrade.certification.digest import TreeError, package_files, package_location, tree_files
from safetrade.certification.provenance import measure_running_code


def _write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_namespace_bot_spread_over_two_folders_is_refused_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    _write(first / "nsbot" / "certify.py", "from nsbot import engine\n")
    _write(second / "nsbot" / "engine.py", "SAFE = True\n")
    monkeypatch.syspath_prepend(str(second))
    monkeypatch.syspath_prepend(str(first))
    with pytest.raises(TreeError) as refused:
        package_location("nsbot")
    message = str(refused.value)
    assert "'nsbot' is a namespace package spread over 2 folders" in message
    assert str(first / "nsbot") in message
    assert str(second / "nsbot") in message
    assert "add an __init__.py" in message
    # live start-up and certification name it as the bot's problem, never a digest of half
    running = measure_running_code("nsbot")
    assert running.bot_files == {}
    assert running.bot_error is not None
    assert "namespace package spread over 2 folders" in running.bot_error


def test_a_namespace_package_in_one_folder_is_still_digested(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "onens" / "engine.py", "SAFE = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert list(package_files("onens")) == ["engine.py"]


def test_a_data_file_kept_in_pycache_is_refused_though_no_digest_sees_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    bot = site / "databot"
    _write(bot / "__init__.py")
    _write(bot / "strategy.py", "import json\n")
    compileall.compile_dir(bot, quiet=1)
    monkeypatch.syspath_prepend(str(site))
    before = tree_files(bot)
    assert measure_running_code("databot").bytecode_problems == ()
    _write(bot / "__pycache__" / "strategy.json", '{"risk_percent": 100}')
    assert tree_files(bot) == before  # the digest skips __pycache__: only this check sees it
    assert measure_running_code("databot").bytecode_problems == (
        "databot/__pycache__/strategy.json: a file in __pycache__ that is no source's cached "
        "bytecode is not digested (data or code kept there changes what runs unseen)",
    )


def test_only_cached_bytecode_of_a_source_beside_it_may_sit_in_pycache(tmp_path: Path) -> None:
    bot = tmp_path / "cachebot"
    _write(bot / "a.py", "A = 1\n")
    _write(bot / "b.pyw", "B = 1\n")
    compileall.compile_dir(bot, quiet=1)
    cache = bot / "__pycache__"
    # other interpreters' caches of existing sources never run here: harmless
    for name in (
        "a.cpython-312.pyc",
        "a.cpython-311.opt-1.pyc",
        "a.cpython-311-pytest-9.2.0.pyc",
        "a.pypy39.pyc",
        "b.cpython-313.opt-2.pyc",
    ):
        (cache / name).write_bytes(b"not this interpreter's")
    assert foreign_bytecode(bot) == []
    for name in ("gone.cpython-312.pyc", "a.pyc", "notes.txt", ".strategy"):
        (cache / name).write_bytes(b"x")
    assert foreign_bytecode(bot) == [
        "__pycache__/.strategy: a file in __pycache__ that is no source's cached bytecode is "
        "not digested (data or code kept there changes what runs unseen)",
        "__pycache__/a.pyc: a file in __pycache__ that is no source's cached bytecode is not "
        "digested (data or code kept there changes what runs unseen)",
        "__pycache__/gone.cpython-312.pyc: bytecode of another interpreter (cpython-312) "
        "without a source file (not digested)",
        "__pycache__/notes.txt: a file in __pycache__ that is no source's cached bytecode is "
        "not digested (data or code kept there changes what runs unseen)",
    ]
