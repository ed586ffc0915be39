"""Live start-up runs the certified code: every loaded module comes from a certified place.

The digests bind what safetrade's and the bot's files hold; these tests are the ways a review
reproduced to trade with other code while every digest still matched: a script outside every
tree (``python run_live.py``) naming a certified bot, and a second top-level package or loose
module of the bot's folder (installed editable, or installed by the bot's own distribution).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
import types
from datetime import UTC, datetime
from pathlib import Path

import pytest

from safetrade.certification import gate, require_valid
from safetrade.certification.conformance.mint import mint_certificate
from safetrade.certification.gate import CHECK_NAMES, allow_test_harness, verify_artifact
from safetrade.certification.provenance import (
    check_loaded_modules,
    measure_running_code,
)
from safetrade.errors import CertificationError

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = "safetrade.reference_bot"


def _module(name: str, file: str | Path | None) -> types.ModuleType:
    module = types.ModuleType(name)
    if file is not None:
        module.__file__ = str(file)
    return module


def _write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _certified(*names: str) -> dict[str, object]:
    """Modules every live process has: safetrade, the standard library, site-packages."""
    import attr  # a site-packages module

    return {
        "safetrade": sys.modules["safetrade"],
        "safetrade.reference_bot": sys.modules["safetrade.reference_bot"],
        "json": json,
        "attr": attr,
        **{n: sys.modules[n] for n in names},
    }


@pytest.fixture(autouse=True)
def _reference_bot_loaded() -> None:
    import safetrade.reference_bot  # noqa: F401


def test_a_script_outside_every_certified_tree_is_named_with_its_path(tmp_path: Path) -> None:
    script = _write(tmp_path / "run_live.py")
    modules = {**_certified(), "__main__": _module("__main__", script)}
    loaded = check_loaded_modules(REFERENCE, modules=modules)
    (problem,) = loaded.problems
    assert problem.startswith(f"__main__ ({script.resolve()}) is a script outside the certified")
    assert f"`python -m {REFERENCE}` or its console script" in problem
    assert loaded.checked == len(modules)
    # the same modules started from the bot's package: nothing to refuse
    inside = sys.modules["safetrade.reference_bot"].__file__
    built_in = {"x": _module("x", None)}  # a module without a file that was not started
    started = check_loaded_modules(
        REFERENCE, modules={**_certified(), **built_in, "__main__": _module("__main__", inside)}
    )
    assert started.problems == ()
    # typed in (python - < run_live.py, python -c, the prompt): no file, and no digest either
    (typed,) = check_loaded_modules(
        REFERENCE, modules={**_certified(), "__main__": _module("__main__", "<stdin>")}
    ).problems
    assert typed.startswith("__main__ (no file: code given with -c, read from stdin or typed ")
    assert f"is a script outside the certified bot package {REFERENCE!r}" in typed


def test_a_loose_module_and_a_second_package_of_the_bots_folder_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an editable install puts the bot's folder on sys.path: all of it is importable
    folder = tmp_path / "twobot"
    bot = _write(folder / "twobot" / "__init__.py", "from twobot_core.engine import make_bot\n")
    core = _write(folder / "twobot_core" / "engine.py", "def make_bot(c): ...\n")
    helper = _write(folder / "helper.py", "PAYLOAD = 1\n")
    monkeypatch.syspath_prepend(str(folder))
    modules = {
        **_certified(),
        "twobot": _module("twobot", bot),
        "twobot_core.engine": _module("twobot_core.engine", core),
        "helper": _module("helper", helper),
    }
    problems = check_loaded_modules("twobot", modules=modules).problems
    assert problems == (
        f"helper ({helper.resolve()}) lies outside safetrade, the bot package 'twobot', the "
        "standard library and site-packages: no certification covers its code",
        f"twobot_core.engine ({core.resolve()}) lies outside safetrade, the bot package "
        "'twobot', the standard library and site-packages: no certification covers its code",
    )


def test_a_package_the_bots_own_distribution_installs_beside_it_is_refused_in_site_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"
    bot = _write(site / "twobot" / "__init__.py")
    core = _write(site / "twobot_core" / "__init__.py")
    other = _write(site / "otherlib" / "__init__.py")  # another distribution's: bound by version
    hook = _write(site / "__editable___twobot_0_1_0_finder.py")  # setuptools' editable finder
    info = site / "twobot-0.1.0.dist-info"
    _write(info / "METADATA", "Metadata-Version: 2.1\nName: twobot\nVersion: 0.1.0\n\n")
    _write(info / "top_level.txt", "twobot\ntwobot_core\n")
    record = ["twobot/__init__.py,,", "twobot_core/__init__.py,,", f"{info.name}/METADATA,,",
              f"{hook.name},,"]  # fmt: skip
    _write(info / "RECORD", "\n".join(record) + "\n")
    monkeypatch.syspath_prepend(str(site))
    from safetrade.certification.provenance import site_dirs

    real = site_dirs()  # where _certified()'s own site-packages module lives
    monkeypatch.setattr("safetrade.certification.provenance.site_dirs", lambda: (str(site), *real))
    modules = {
        **_certified(),
        "twobot": _module("twobot", bot),
        "twobot_core": _module("twobot_core", core),
        "otherlib": _module("otherlib", other),
        hook.stem: _module(hook.stem, hook),
    }
    (problem,) = check_loaded_modules("twobot", modules=modules).problems
    assert problem == (
        f"twobot_core ({core.resolve()}) belongs to the bot's distribution twobot but lies "
        "outside the certified bot package 'twobot': only that distribution's version binds "
        "it, and an editable install never changes the version"
    )


_LAUNCHER = """\
#!/venv/bin/python
# -*- coding: utf-8 -*-
import re
import sys
from {module} import main
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit(main())
"""


@pytest.fixture
def scripts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environment's scripts folder, here a scratch one."""
    folder = tmp_path / "bin"
    folder.mkdir()
    paths = sysconfig.get_paths()
    monkeypatch.setattr(sysconfig, "get_paths", lambda: {**paths, "scripts": str(folder)})
    return folder


def test_only_a_console_script_launcher_of_the_bot_may_start_it_from_the_scripts_folder(
    scripts: Path,
) -> None:
    """The scripts folder also holds plain scripts a distribution ships: code no digest covers."""

    def started(name: str, text: str) -> tuple[str, ...]:
        main = _module("__main__", _write(scripts / name, text))
        return check_loaded_modules(REFERENCE, modules={**_certified(), "__main__": main}).problems

    assert started("refbot", _LAUNCHER.format(module="safetrade.reference_bot.live")) == ()
    assert started("safetrade", _LAUNCHER.format(module="safetrade.cli")) == ()
    # the header pip and uv write when the interpreter's path has a space (or is long)
    header = "#!/bin/sh\n'''exec' \"/my venv/bin/python\" \"$0\" \"$@\"\n' '''\n"
    shell = _LAUNCHER.format(module="safetrade.cli").replace("#!/venv/bin/python\n", header)
    assert started("spaced", shell) == ()
    # only as the first statement
    assert started("late", shell.replace(header, "") + "'''exec' x\n' '''\n") != ()
    # a launcher of another package, a hotfixed launcher, a script-files script: refused
    for name, text in {
        "otherbot": _LAUNCHER.format(module="otherbot.cli"),
        "hotfix": _LAUNCHER.format(module="safetrade.cli") + "RISK = 10\n",
        "run_live.py": "import safetrade\nprint('trading')\n",
    }.items():
        (problem,) = started(name, text)
        assert problem.startswith(f"__main__ ({(scripts / name).resolve()}) is a script outside")
    # under a named test harness any launcher may start the process (pytest's own)
    main = _module("__main__", _write(scripts / "pytest", _LAUNCHER.format(module="_pytest.x")))
    modules = {**_certified(), "__main__": main}
    assert check_loaded_modules(REFERENCE, modules=modules, harness=[scripts / "x"]).problems == ()


def test_a_console_script_odd_entries_and_aliases_are_judged_once_and_never_crash(
    tmp_path: Path, scripts: Path
) -> None:
    launcher = _write(scripts / "mybot", _LAUNCHER.format(module="safetrade.reference_bot.x"))

    class Hostile:
        def __getattr__(self, name: str) -> object:
            raise RuntimeError(name)

    main = _module("__main__", launcher)
    odd = {"__main__": main, "__mp_main__": main, "blocked": None, "hostile": Hostile()}
    assert check_loaded_modules(REFERENCE, modules={**_certified(), **odd}).problems == ()
    script = _module("__main__", _write(tmp_path / "run_live.py"))
    aliased = {**_certified(), "__main__": script, "__mp_main__": script}
    assert len(check_loaded_modules(REFERENCE, modules=aliased).problems) == 1


def test_a_test_harness_is_accepted_only_when_named_and_is_counted(tmp_path: Path) -> None:
    test_file = _write(tmp_path / "tests" / "test_live.py")
    modules = {**_certified(), "tests.test_live": _module("tests.test_live", test_file)}
    refused = check_loaded_modules(REFERENCE, modules=modules)
    assert refused.problems[0].startswith(f"tests.test_live ({test_file.resolve()}) lies outside")
    accepted = check_loaded_modules(REFERENCE, modules=modules, harness=[tmp_path / "tests"])
    assert (accepted.problems, accepted.harness) == ((), 1)
    # a file names that file only
    other = _write(tmp_path / "tests" / "other.py")
    both = {**modules, "tests.other": _module("tests.other", other)}
    assert len(check_loaded_modules(REFERENCE, modules=both, harness=[test_file]).problems) == 1


def test_this_suite_names_its_own_files_as_the_harness_and_needs_to() -> None:
    # the root conftest.py: tests/, features/ and itself, nothing else
    named = gate._HARNESS
    assert named == (ROOT / "tests", ROOT / "features", ROOT / "conftest.py")
    this_process = check_loaded_modules(REFERENCE, harness=gate._HARNESS)
    assert this_process.problems == ()
    assert this_process.harness >= 2  # this file and the root conftest.py at least
    without = check_loaded_modules(REFERENCE).problems
    assert any(f"({Path(__file__).resolve()})" in p for p in without)


@pytest.fixture
def reference_certificate(tmp_path: Path) -> tuple[Path, Path]:
    minted = mint_certificate(
        tmp_path, running=measure_running_code(REFERENCE), now=datetime.now(UTC)
    )
    return minted.artifact, minted.trusted_keys


def test_require_valid_refuses_modules_outside_the_certified_trees_with_the_fix(
    reference_certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    artifact, trusted = reference_certificate
    assert require_valid(artifact, trusted_keys=trusted, bot_package=REFERENCE).bot_package
    monkeypatch.setattr(gate, "_HARNESS", ())  # as in a live process: no allowance
    with pytest.raises(CertificationError) as refused:
        require_valid(artifact, trusted_keys=trusted, bot_package=REFERENCE)
    (problem,) = refused.value.problems  # every other check passed
    assert problem.startswith("loaded modules: ")
    assert f"({Path(__file__).resolve()}) lies outside safetrade" in problem
    assert refused.value.fix == gate._FIXES["loaded modules"]
    assert "move each module named into your bot's package" in refused.value.fix
    assert "`python -m YOUR_BOT_PACKAGE`) or its console script" in refused.value.fix


def test_the_check_is_a_row_of_the_verdict_and_only_live_start_up_runs_it(
    reference_certificate: tuple[Path, Path],
) -> None:
    artifact, trusted = reference_certificate
    assert "loaded modules" in CHECK_NAMES
    elsewhere = verify_artifact(artifact, trusted_keys=trusted, bot_package=REFERENCE)
    row = next(c for c in elsewhere.checks if c.name == "loaded modules")
    assert row.passed
    assert "checked at live start-up" in row.detail
    live = verify_artifact(
        artifact, trusted_keys=trusted, bot_package=REFERENCE, modules=sys.modules
    )
    row = next(c for c in live.checks if c.name == "loaded modules")
    assert row.passed, live.table()
    assert "more from a test harness: allow_test_harness" in row.detail


def test_allow_test_harness_replaces_the_list_and_clears_with_no_argument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gate, "_HARNESS", gate._HARNESS)  # restored after the test
    allow_test_harness(tmp_path / "a", tmp_path / "b")
    named = gate._HARNESS
    assert named == (tmp_path.resolve() / "a", tmp_path.resolve() / "b")
    allow_test_harness()
    cleared = gate._HARNESS
    assert cleared == ()


# --------------------------------------------------------------------- real processes, no harness

_LIVE_START = """
import sys, tempfile
from datetime import UTC, datetime
from pathlib import Path
from safetrade.certification import require_valid
from safetrade.certification.conformance.mint import mint_certificate
from safetrade.certification.provenance import measure_running_code
from safetrade.errors import CertificationError

now = datetime.now(UTC)
minted = mint_certificate(Path(tempfile.mkdtemp()), running=measure_running_code("livebot"),
                          now=now)
try:
    require_valid(minted.artifact, trusted_keys=minted.trusted_keys, bot_package="livebot",
                  now=now)
except CertificationError as exc:
    print("REFUSED", *exc.problems, sep="\\n")
    print("FIX", exc.fix)
else:
    print("ACCEPTED")
"""


def _start(site: Path, *argv: str, stdin: str | None = None) -> str:
    """The output of ``python ARGV`` with ``site`` on the path (``stdin`` fed to it)."""
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(  # noqa: S603 -- our interpreter, a fixed argv
        [sys.executable, *argv], cwd=site.parent, env=env, capture_output=True, text=True,
        check=False, timeout=120, input=stdin,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_live_process_starts_from_the_bot_and_is_refused_from_a_script_or_a_loose_module(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    _write(site / "livebot" / "__init__.py")
    _write(site / "livebot" / "__main__.py", _LIVE_START)
    script = _write(tmp_path / "run_live.py", _LIVE_START)
    # python -m livebot: the code started is the certified one
    assert _start(site, "-m", "livebot").strip() == "ACCEPTED"
    # the same code typed in (python -c): no file, and no digest covers it
    typed = _start(site, "-c", _LIVE_START)
    assert typed.startswith(
        "REFUSED\nloaded modules: __main__ (no file: code given with -c) is a script outside "
        "the certified bot package 'livebot'"
    ), typed
    # the same start-up from a script beside the bot: the gate used to accept it
    refused = _start(site, str(script))
    assert refused.startswith("REFUSED\nloaded modules: __main__ ("), refused
    assert f"({script.resolve()}) is a script outside the certified bot package 'livebot'" in (
        refused
    )
    assert "start the bot with `python -m livebot` or its console script" in refused
    assert "FIX move each module named into your bot's package" in refused
    # the bot reaching into a loose module of its folder (not digested)
    _write(site / "helper.py", "PAYLOAD = 1\n")
    _write(site / "livebot" / "__init__.py", "import helper  # noqa: F401\n")
    loose = _start(site, "-m", "livebot")
    assert (
        textwrap.dedent(f"""\
        REFUSED
        loaded modules: helper ({(site / "helper.py").resolve()}) lies outside safetrade, the bot \
package 'livebot', the standard library and site-packages: no certification covers its code
        """)
        in loose
    )


def test_sourceless_and_compiled_modules_first_on_sys_path_are_refused_too(
    tmp_path: Path,
) -> None:
    """An attr.pyc or a decimal extension module shadows as well as a .py: it was not looked for
    (ccxt and its dependencies are imported only after the gate, so this scan is what sees them)."""
    from importlib.machinery import EXTENSION_SUFFIXES

    from safetrade.certification.provenance import shadowing_files

    extension = f"decimal{EXTENSION_SUFFIXES[0]}"
    for name in ("attr.pyc", extension, "secrets/__init__.pyc", "notes.pyc", "odd-name.pyc",
                 "mybot.pyc", "six/readme.txt"):  # fmt: skip
        _write(tmp_path / name)
    problems = shadowing_files("mybot", ["attrs", "six"], str(tmp_path))
    assert sorted(p.split(" sits first", 1)[0] for p in problems) == sorted(
        str((tmp_path / name).resolve()) for name in ("attr.pyc", extension, "secrets")
    )


def test_files_first_on_sys_path_named_like_a_dependency_or_standard_module_are_refused(
    tmp_path: Path,
) -> None:
    """`python -m bot` from a folder with a six.py imports that six.py later, after the gate."""
    from safetrade.certification.provenance import shadowing_files

    # time is built into the interpreter: no file can shadow it
    for name in ("attr.py", "secrets.py", "mybot/__init__.py", "test/__init__.py", "notes.py",
                 "venv/bin/python", "time.py"):  # fmt: skip
        _write(tmp_path / name)
    problems = shadowing_files("mybot", ["attrs"], str(tmp_path))
    assert [p.split(" sits first", 1)[0] for p in problems] == [
        str((tmp_path / "attr.py").resolve()),
        str((tmp_path / "secrets.py").resolve()),
    ]
    assert "named like attr of the dependency attrs" in problems[0]
    assert "named like the standard module secrets" in problems[1]
    assert "PYTHONSAFEPATH=1" in problems[1]
    # part of the live verdict, not of a test run's (which names its harness)
    modules = _certified()
    live = check_loaded_modules(
        REFERENCE, modules=modules, dependencies=["attrs"], first_path=str(tmp_path)
    )
    assert live.problems == problems
    tested = check_loaded_modules(
        REFERENCE, modules=modules, dependencies=["attrs"], first_path=str(tmp_path),
        harness=[tmp_path / "tests"],
    )  # fmt: skip
    assert tested.problems == ()


def test_variables_that_move_the_standard_library_or_user_packages_are_refused() -> None:
    """PYTHONHOME pointing at a copy of the standard library with its own decimal.py made that
    decimal.py "the standard library" and live mode started on it."""
    from safetrade.certification.bytecode import MOVING_VARIABLES, moved_homes

    env = {"PYTHONHOME": "/opt/home", "PYTHONUSERBASE": "/opt/ub", "PYTHONPLATLIBDIR": "lib64"}
    problems = moved_homes(env, ignore_environment=False, user_site=True)
    assert [p.partition("=")[0] for p in problems] == list(MOVING_VARIABLES)
    assert "PYTHONHOME=/opt/home moves where Python finds its standard library" in problems[0]
    assert "python -I" in problems[0]
    # ignored by the interpreter (-E, -I): nothing moved; empty values move nothing either
    assert moved_homes(env, ignore_environment=True, user_site=True) == []
    assert moved_homes({"PYTHONHOME": "", "PATH": "/usr/bin"}, ignore_environment=False) == []


def test_variables_python_ignores_here_are_not_refused() -> None:
    """PYTHONUSERBASE where no user site is read (a venv, -s), PYTHONPLATLIBDIR at the build's
    own value: each was refused although it moved nothing."""
    import sysconfig

    from safetrade.certification.bytecode import moved_homes

    build = sysconfig.get_config_var("PLATLIBDIR")
    env = {"PYTHONUSERBASE": "/opt/ub", "PYTHONPLATLIBDIR": build}
    assert moved_homes(env, ignore_environment=False, user_site=False) == []
    [user] = moved_homes(env, ignore_environment=False, user_site=True)
    assert user.startswith("PYTHONUSERBASE=/opt/ub moves")
    assert moved_homes({"PYTHONPLATLIBDIR": build + "64"}, ignore_environment=False)


def test_a_launcher_in_the_users_scripts_folder_counts_where_the_user_site_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`pip install --user` writes the console script to ~/.local/bin: refused, with a fix
    telling the owner to start the console script they had started."""
    import site

    from safetrade.certification.provenance import launcher_dirs

    user_scripts = sysconfig.get_path("scripts", f"{os.name}_user")
    monkeypatch.setattr(site, "ENABLE_USER_SITE", True)
    assert launcher_dirs() == [sysconfig.get_paths()["scripts"], user_scripts]
    monkeypatch.setattr(site, "ENABLE_USER_SITE", False)
    assert launcher_dirs() == [sysconfig.get_paths()["scripts"]]


def test_the_user_site_counts_as_site_packages_only_where_python_reads_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a venv (no user site), PYTHONPATH=~/.local/.../site-packages passed as installed code."""
    import site

    from safetrade.certification import bytecode

    user = os.path.realpath(site.getusersitepackages())
    try:
        for enabled in (False, None, True):
            monkeypatch.setattr(site, "ENABLE_USER_SITE", enabled)
            bytecode.site_dirs.cache_clear()
            assert (user in bytecode.site_dirs()) is bool(enabled)
    finally:
        monkeypatch.undo()
        bytecode.site_dirs.cache_clear()
