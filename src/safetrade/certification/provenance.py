"""Edge functions that read the environment: versions, git state, the running code's digests."""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib.machinery
import os
import platform
import re
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from safetrade.certification import installed
from safetrade.certification.bytecode import (
    foreign_bytecode,
    in_standard_library,
    moved_homes,
    real_path,
    shadowed_standard_modules,
    site_dirs,
)
from safetrade.certification.closure import ccxt_files, runtime_distributions
from safetrade.certification.digest import (
    TreeError,
    package_files,
    package_location,
    schema_digest,
    tree_files,
)
from safetrade.certification.keys import developer_public_key

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from safetrade.certification.keys import PublicKey

__all__ = [
    "GitState",
    "LoadedModules",
    "RunningCode",
    "check_loaded_modules",
    "git_state",
    "measure_running_code",
    "versions",
]


@attrs.frozen
class GitState:
    """The project's git commit and whether the work tree had uncommitted changes."""

    commit: str | None
    dirty: bool | None


@attrs.frozen
class LoadedModules:
    """Where the modules loaded in the process about to trade come from.

    ``problems`` names each module whose code no certification covers (empty: all of them
    come from safetrade, the bot package, the standard library or site-packages).
    """

    problems: tuple[str, ...]
    #: modules with a file that were judged
    checked: int
    #: modules accepted only because they belong to a test harness (``allow_test_harness``)
    harness: int = 0


@attrs.frozen
class RunningCode:
    """Digest inputs of the code that is about to run (or was just tested).

    ``*_error`` holds why a part could not be measured, so the caller can report it as a
    named problem instead of crashing.
    """

    safetrade_files: Mapping[str, str]
    bot_package: str
    bot_files: Mapping[str, str]
    config_schema_digest: str | None
    bot_error: str | None = None
    config_error: str | None = None
    #: the ccxt files every KuCoin request goes through (closure.CCXT_PARTS)
    ccxt_files: Mapping[str, str] = attrs.field(factory=dict)
    #: name -> version of the distributions safetrade and the bot need at run time
    distributions: Mapping[str, str] = attrs.field(factory=dict)
    #: code Python would run instead of the digested sources: cached or sourceless bytecode,
    #: a standard module shadowed by a file earlier on sys.path (bytecode.py)
    bytecode_problems: tuple[str, ...] = ()
    #: the modules of the process about to trade; None when not measured (only live start-up
    #: runs in that process: ``safetrade verify``, preflight and certify do not)
    loaded_modules: LoadedModules | None = None
    #: the distributions that provide the bot's top-level package (None: not looked up)
    bot_distributions: tuple[str, ...] | None = None
    #: the interpreter, as :func:`versions` records it ("python", "implementation"); None:
    #: not measured (a hand-built RunningCode)
    interpreter: Mapping[str, str] | None = None
    #: this machine's auto-created developer key, which stays one however a run names it
    developer_key: PublicKey | None = None


def interpreter() -> dict[str, str]:
    """The running Python: what the suite and the bot's conformance run were certified on."""
    return {
        "implementation": platform.python_implementation(),
        "python": platform.python_version(),
    }


def versions() -> dict[str, str | None]:
    """Return python, safetrade and ccxt versions (None when a distribution is absent)."""
    dist = installed.version_of

    return {
        **interpreter(),
        "safetrade": dist("safetrade"),
        "ccxt": dist("ccxt"),
    }


def git_state(project_root: Path) -> GitState:
    """Return HEAD and the dirty flag of ``project_root``; ``None`` fields when git is absent."""
    git = shutil.which("git")
    if git is None:
        return GitState(None, None)

    def run(*args: str) -> str | None:
        try:
            done = subprocess.run(  # noqa: S603 -- fixed argv, no shell
                [git, *args],
                cwd=project_root,
                capture_output=True,
                text=True,
                check=False,
                timeout=30,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    if commit is None:
        return GitState(None, None)
    status = run("status", "--porcelain")
    return GitState(commit, None if status is None else bool(status))


def _default_schema() -> Mapping[str, object]:
    # Lazy: safetrade.config is written separately and imports settings machinery we do not
    # want to load unless the schema is actually needed.
    from safetrade.config import settings_schema  # type: ignore[attr-defined,unused-ignore] # noqa: PLC0415

    schema: Mapping[str, object] = settings_schema()
    return schema


def measure_running_code(
    bot_package: str,
    *,
    safetrade_root: Path | None = None,
    schema: Callable[[], Mapping[str, object]] = _default_schema,
) -> RunningCode:
    """Digest the installed safetrade package, the bot package and the config schema.

    Args:
        bot_package: Importable name of the bot package (located without importing it).
        safetrade_root: Directory to hash instead of the installed safetrade (tests only).
        schema: Returns the settings schema; defaults to ``safetrade.config.settings_schema``.

    Raises:
        TreeError: The safetrade tree itself cannot be hashed (e.g. contains a symlink).
    """
    import safetrade  # noqa: PLC0415 -- the *running* package, wherever it is installed

    root = safetrade_root if safetrade_root is not None else Path(safetrade.__file__).parent
    own = tree_files(root)
    bot_error = config_error = None
    try:
        bot = package_files(bot_package)
    except Exception as exc:  # noqa: BLE001 -- any failure becomes a named problem
        bot, bot_error = {}, str(exc)
    try:
        digest: str | None = schema_digest(schema())
    except Exception as exc:  # noqa: BLE001 -- any failure becomes a named problem
        digest, config_error = None, f"{type(exc).__name__}: {exc}"
    owners = tuple(bot_owners(bot_package))
    return RunningCode(
        own,
        bot_package,
        bot,
        digest,
        bot_error,
        config_error,
        ccxt_files=ccxt_files(),
        distributions=runtime_distributions("safetrade", *owners),
        bytecode_problems=_bytecode(root, bot_package, bot_error),
        bot_distributions=owners,
        interpreter=interpreter(),
        developer_key=developer_public_key(Path.home()),
    )


def bot_owners(bot_package: str) -> list[str]:
    """The distributions providing the bot's top-level package, editable installs included."""
    top = bot_package.split(".", maxsplit=1)[0]
    try:
        location: Path | None = package_location(top)
    except TreeError:
        location = None
    return installed.owners_of(top, location=location)


def _bytecode(safetrade_root: Path, bot_package: str, bot_error: str | None) -> tuple[str, ...]:
    # (a cache under PYTHONPYCACHEPREFIX is named by its own absolute path)
    problems = [os.path.join("safetrade", p) for p in foreign_bytecode(safetrade_root)]
    problems += moved_homes()
    problems += shadowed_standard_modules()
    if bot_error is None:
        try:
            bot_root = package_location(bot_package)
        except TreeError:
            bot_root = None
        # the reference bot lives inside safetrade: checked above already
        # (a one-module bot is checked too: its file's own cache)
        if bot_root is not None and not bot_root.is_relative_to(safetrade_root):
            problems += [os.path.join(bot_package, p) for p in foreign_bytecode(bot_root)]
    return tuple(problems)


# -- the modules of the process about to trade ---------------------------------------------


@attrs.frozen
class _Places:
    """Folders (anything under them) and files (exactly them), matched by real path."""

    prefixes: tuple[str, ...]
    files: frozenset[str]

    @classmethod
    def of(cls, paths: Iterable[str]) -> _Places:
        real = [real_path(p) for p in paths]
        return cls(
            tuple(r.rstrip(os.sep) + os.sep for r in real if not os.path.isfile(r)),
            frozenset(r for r in real if os.path.isfile(r)),
        )

    def hold(self, real: str) -> bool:
        return real in self.files or real.startswith(self.prefixes)


_LAUNCHER_MAX_BYTES = 4096  # pip's and uv's console-script launchers are a few hundred bytes

# The console-script launchers installers write, as Python parses them (the shebang and the
# coding line are comments, no part of the tree): pip's up to 25.1 (distlib's older one; the
# installer library's, which poetry, hatch and pdm use, parses the same), uv's, pip 25.2-25.3's
# and pip 26's own (PipScriptMaker.script_template, without `re`), and distlib 0.3.9's, which
# imports inside the guard. ``{module}``, ``{name}`` and ``{call}`` come from the entry point
# ``module:name`` (or ``module:name.attr``), validated as dotted names before they are put in.
# A new installer's shape is refused until it is added here (tests/unit/test_launchers.py
# checks the installed pip's own).
_LAUNCHER_TEMPLATES = (
    "import re\n"
    "import sys\n"
    "from {module} import {name}\n"
    "if __name__ == '__main__':\n"
    "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
    "    sys.exit({call}())\n",
    "import sys\n"
    "from {module} import {name}\n"
    "if __name__ == '__main__':\n"
    "    if sys.argv[0].endswith('-script.pyw'):\n"
    "        sys.argv[0] = sys.argv[0][:-11]\n"
    "    elif sys.argv[0].endswith('.exe'):\n"
    "        sys.argv[0] = sys.argv[0][:-4]\n"
    "    sys.exit({call}())\n",
    "import sys\n"
    "from {module} import {name}\n"
    "if __name__ == '__main__':\n"
    "    if sys.argv[0].endswith('.exe'):\n"
    "        sys.argv[0] = sys.argv[0][:-4]\n"
    "    sys.exit({call}())\n",
    "import sys\n"
    "from {module} import {name}\n"
    "if __name__ == '__main__':\n"
    "    sys.argv[0] = sys.argv[0].removesuffix('.exe')\n"
    "    sys.exit({call}())\n",
    "import re\n"
    "import sys\n"
    "if __name__ == '__main__':\n"
    "    from {module} import {name}\n"
    "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
    "    sys.exit({call}())\n",
)
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", re.ASCII)
# The header pip and uv write instead of a shebang when the interpreter's path has a space or
# is too long: a string to Python, a command to /bin/sh, which runs it first. So it may only
# name an interpreter: double-quoted (distlib), single-quoted, or uv's path beside the script;
# anything else could run other code before (or instead of) the launcher.
_SHELL_HEADER = re.compile(
    "exec' "
    + "(?:"
    + '"[^"$`\\\\]+"'
    + "|'[^']+'"
    + "|" + re.escape('"$(dirname -- "$(realpath -- "$0")")"/') + "'[^']+'"
    + ")"
    + re.escape(' "$0" "$@"') + "\n' "
)  # fmt: skip


@functools.lru_cache(maxsize=64)
def _launches(script: str, packages: tuple[str, ...] | None) -> bool:
    """Whether ``script`` is a console-script launcher of one of ``packages`` and nothing else.

    ``packages`` None: of any package.

    The scripts folder also holds whatever a distribution ships as a plain script (setuptools
    ``script-files``) or anyone copied there: code no digest covers. So only the exact tree an
    installer writes is a launcher, compared node by node with :data:`_LAUNCHER_TEMPLATES`:
    one ``from MODULE import NAME`` of the bot package or safetrade, and a ``__main__`` guard
    that only tidies ``sys.argv[0]`` and calls it. One statement more, even inside the guard,
    and it is a script like any other.
    """
    try:
        if os.path.getsize(script) > _LAUNCHER_MAX_BYTES:
            return False
        tree = ast.parse(Path(script).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return False
    body = list(tree.body)
    if body and _is_shell_header(body[0]):
        body = body[1:]  # only as the first statement: where /bin/sh reads it
    guard = body[-1].body if body and isinstance(body[-1], ast.If) else []
    # at the top, or (distlib 0.3.9) first thing inside the guard
    entry = next((node for node in (*body, *guard[:1]) if isinstance(node, ast.ImportFrom)), None)
    if entry is None or entry.level != 0 or not entry.module or len(entry.names) != 1:
        return False
    name = entry.names[0].name
    if entry.names[0].asname is not None or not _DOTTED.fullmatch(f"{entry.module}.{name}"):
        return False
    tops = None if packages is None else {p.partition(".")[0] for p in packages}
    if tops is not None and entry.module.partition(".")[0] not in tops:
        return False
    call = _called(body)
    if call is None or call.partition(".")[0] != name:
        return False
    found = ast.dump(ast.Module(body=body, type_ignores=[]))
    return any(
        found == ast.dump(ast.parse(t.format(module=entry.module, name=name, call=call)))
        for t in _LAUNCHER_TEMPLATES
    )


def _called(body: Sequence[ast.stmt]) -> str | None:
    """``NAME`` (or ``NAME.attr``) of a launcher's last statement ``sys.exit(NAME())``."""
    guard = body[-1] if body else None
    last = guard.body[-1] if isinstance(guard, ast.If) and guard.body else None
    exits = last.value if isinstance(last, ast.Expr) else None
    if not isinstance(exits, ast.Call) or len(exits.args) != 1:
        return None
    inner = exits.args[0]
    if not isinstance(inner, ast.Call):
        return None
    called = ast.unparse(inner.func)
    return called if _DOTTED.fullmatch(called) else None


def _is_shell_header(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and _SHELL_HEADER.fullmatch(node.value.value) is not None
    )


# the started script: ``__main__``, and in a process multiprocessing spawned, ``__mp_main__``
# too (the parent's main module run again under that name)
_MAIN_NAMES = frozenset({"__main__", "__mp_main__"})


def _editable_hook(name: str, real: str, sites: _Places) -> bool:
    """The module an installer writes beside the ``.pth`` file of an editable install.

    setuptools' ``__editable___mybot_0_1_0_finder``, the editables library's
    ``_editable_impl_mybot``, meson-python's ``_mybot_editable_loader``: listed in the bot
    distribution's RECORD, directly in site-packages, and no code of the bot.
    """
    folder = os.path.dirname(real) + os.sep
    return "editable" in name and "." not in name and folder in sites.prefixes


def _module_file(module: object) -> str | None:
    """The file a loaded module's code came from (None: built in, frozen, ``-c``, stdin)."""
    try:
        file = getattr(module, "__file__", None)
        if not isinstance(file, str) or not file:
            spec = getattr(module, "__spec__", None)
            origin = getattr(spec, "origin", None)
            located = isinstance(origin, str) and getattr(spec, "has_location", False)
            file = origin if located else None
    except Exception:  # noqa: BLE001 -- an odd object in sys.modules has no file to judge
        return None
    if file is None or (file.startswith("<") and file.endswith(">")):
        return None  # <stdin>, <string>: typed in, never a file on disk
    return file


def _spec_name(module: object) -> str | None:
    """The module name ``module`` was imported (or run with ``-m``) under, if it says."""
    try:
        name = getattr(getattr(module, "__spec__", None), "name", None)
    except Exception:  # noqa: BLE001 -- an odd object in sys.modules names no module
        return None
    return name if isinstance(name, str) else None


def _run_from(module: object, packages: Sequence[str]) -> bool:
    """Whether ``module`` was started with ``python -m`` as a module of one of ``packages``."""
    spec_name = _spec_name(module)
    return spec_name is not None and any(
        spec_name == p or spec_name.startswith(p + ".") for p in packages
    )


def _typed_in(name: str, module: object, bot_package: str) -> str:
    """Why a started module without a file is refused, saying how it was started if known."""
    how = "code given with -c, read from stdin or typed at the interactive prompt"
    if module is sys.modules.get("__main__"):
        how = _how_typed_in(tuple(getattr(sys, "orig_argv", ())[1:]))
    return (
        f"{name} (no file: {how}) is a script outside the certified bot package "
        f"{bot_package!r} and safetrade: the code started is not the certified bot (start the "
        f"bot with `python -m {bot_package}` or its console script)"
    )


_OPTIONS_WITH_VALUE = frozenset("WX")


def _how_typed_in(options: Sequence[str]) -> str:
    """How this interpreter got its code, from its own command line (``sys.orig_argv``)."""
    args = iter(options)
    for arg in args:
        if arg == "-":
            return "code read from stdin (python -)"
        if arg == "--check-hash-based-pycs":
            next(args, None)  # the one long option with a value
            continue
        if arg.startswith("--"):
            continue
        if not arg.startswith("-"):
            return "a script that has no file"
        for index, letter in enumerate(arg[1:], start=1):
            if letter == "c":
                return "code given with -c"
            if letter == "m":
                return "a module run with -m that has no file"
            if letter in _OPTIONS_WITH_VALUE:
                if index == len(arg) - 1:
                    next(args, None)  # -W ignore, -X dev: the value is the next argument
                break
    return "code read from stdin or typed at the interactive prompt"


def _foreign_main(name: str, module: object, real: str, bot_package: str) -> str:
    """Why a started module of an installed package (or the standard library) is refused."""
    spec_name = _spec_name(module)
    if in_standard_library(real):
        owner = "the standard library"
    else:
        owners = installed.owners_of(spec_name.partition(".")[0]) if spec_name else []
        owner = f"the distribution {', '.join(owners)}" if owners else "an installed package"
    what = f"module {spec_name} of {owner}" if spec_name is not None else f"of {owner}"
    return (
        f"{name} ({real}) is {what}, not of the certified bot package {bot_package!r} or "
        f"safetrade: the code started is not the certified bot (start the bot with `python -m "
        f"{bot_package}` or its console script)"
    )


def check_loaded_modules(
    bot_package: str,
    *,
    modules: Mapping[str, object] | None = None,
    safetrade_root: Path | None = None,
    bot_distributions: Sequence[str] | None = None,
    harness: Sequence[Path | str] = (),
    dependencies: Iterable[str] = (),
    first_path: str | None = None,
) -> LoadedModules:
    """Judge every loaded module by where its file lies: is the running code the certified one?

    The digests say what safetrade's and the bot's files hold; only the process about to trade
    can say that it runs them. A module (``__main__`` included) is accepted from the digested
    safetrade tree, the digested bot package, the standard library, or the site-packages
    folders installed distributions live in (bound by name and version); ``__main__`` also
    from the environment's scripts folder (a console-script launcher). Anything else is code
    no certification covers: a ``run_live.py`` beside the project, a second top-level package
    or loose module of the bot's folder installed editable. A module that the bot's own
    distribution installs outside the digested bot package is refused too: only the
    distribution's version binds it, which an editable install never changes.

    Args:
        bot_package: The bot package the certification must cover (``require_valid``'s).
        modules: The loaded modules (default ``sys.modules``).
        safetrade_root: The digested safetrade tree (default: the running package's folder).
        bot_distributions: The distributions providing the bot's top-level package (default:
            looked up, :func:`installed.owners_of`).
        harness: Folders and files of a test suite whose modules are accepted too
            (:func:`safetrade.certification.gate.allow_test_harness`); empty in a live process.
        dependencies: The distributions bound by version: in a live process (no harness),
            files in the first ``sys.path`` folder named like one of their top-level modules,
            or like a standard module, are refused too (:func:`shadowing_files`).
        first_path: That folder (default ``sys.path[0]``).
    """
    import safetrade  # noqa: PLC0415 -- the *running* package, wherever it is installed

    loaded = list((sys.modules if modules is None else modules).items())
    trees = [str(safetrade_root or Path(safetrade.__file__).parent)]
    with contextlib.suppress(TreeError):  # the bot package check names why it cannot be found
        trees.append(str(package_location(bot_package)))
    certified = _Places.of(trees)
    if bot_distributions is None:
        bot_distributions = bot_owners(bot_package)
    owned = {file: dist for dist in bot_distributions for file in installed.listed_files(dist)}
    launcher = _Places.of(launcher_dirs())
    sites = _Places.of(site_dirs())
    allowed = _Places.of(str(p) for p in harness)
    # under a named test harness, any launcher may start it (pytest's own, say)
    entries = None if harness else (bot_package, "safetrade")
    problems: list[tuple[str, str]] = []
    checked = from_harness = 0
    seen: set[int] = set()
    for name, module in sorted(loaded, key=lambda item: item[0] != "__main__"):
        if id(module) in seen:
            continue  # one module under two names (``import multiprocessing`` aliases __main__)
        seen.add(id(module))
        file = _module_file(module)
        started = name in _MAIN_NAMES
        if file is None:
            # a started module without a file is code typed in (-c, stdin, the prompt), which
            # no digest covers; only a test harness's (pytest-xdist's workers) is accepted
            if started and not harness and not _run_from(module, (bot_package, "safetrade")):
                checked += 1
                problems.append((name, _typed_in(name, module, bot_package)))
            continue
        checked += 1
        real = real_path(file)
        if certified.hold(real) or (started and launcher.hold(real) and _launches(real, entries)):
            continue  # certified, or the launcher pip writes for a console script
        if started and launcher.hold(real):
            # not a launcher shape known (an installer's new template, or a script copied
            # there): say so, and the start that always works
            problems.append((name, (
                f"{name} ({real}) is a script outside the certified bot package "
                f"{bot_package!r} and safetrade: it is in the environment's scripts folder but "
                "is no console-script launcher of either in a shape pip or uv writes, so no "
                f"digest covers its code (start the bot with `python -m {bot_package}`)"
            )))  # fmt: skip
        elif real in owned and not _editable_hook(name, real, sites):
            problems.append((name, (
                f"{name} ({real}) belongs to the bot's distribution {owned[real]} but lies "
                f"outside the certified bot package {bot_package!r}: only that distribution's "
                "version binds it, and an editable install never changes the version"
            )))  # fmt: skip
        elif in_standard_library(file) or sites.hold(real):
            if started and not harness:
                # `python -m otherbot`: another package's code is what runs, and it names the
                # bot's certificate; installed, it is bound by version, never certified.
                # (Under a test harness, `python -m pytest` starts the process.)
                problems.append((name, _foreign_main(name, module, real, bot_package)))
        elif allowed.hold(real):
            from_harness += 1
        elif started:
            problems.append((name, (
                f"{name} ({real}) is a script outside the certified bot package "
                f"{bot_package!r} and safetrade: the code started is not the certified bot "
                f"(start the bot with `python -m {bot_package}` or its console script)"
            )))  # fmt: skip
        else:
            problems.append((name, (
                f"{name} ({real}) lies outside safetrade, the bot package {bot_package!r}, "
                "the standard library and site-packages: no certification covers its code"
            )))  # fmt: skip
    problems.sort(key=lambda item: (item[0] not in _MAIN_NAMES, item[0]))
    shadows = () if harness else shadowing_files(bot_package, dependencies, first_path)
    return LoadedModules((*(text for _name, text in problems), *shadows), checked, from_harness)


def undeclared_imports(bot_package: str, modules: Mapping[str, object]) -> tuple[str, ...]:
    """Installed distributions the bot imported that neither it nor safetrade requires.

    Only what the bot's and safetrade's requirements reach is bound by version: a
    distribution the bot imports without declaring it can be upgraded or swapped after
    certification and live start-up would never notice.

    Args:
        bot_package: The bot's package.
        modules: The modules importing the bot loaded (name -> module).

    Returns:
        One line per undeclared distribution, naming a module it provided.
    """
    bound = {
        installed.normalise(name)
        for name in runtime_distributions("safetrade", *bot_owners(bot_package))
    }
    sites = _Places.of(site_dirs())
    found: dict[str, str] = {}
    for name, module in sorted(modules.items()):
        file = _module_file(module)
        if file is None or in_standard_library(file) or not sites.hold(real_path(file)):
            continue
        top = name.partition(".")[0]
        owners = installed.owners_of(top)
        if owners and not any(installed.normalise(o) in bound for o in owners):
            found.setdefault(owners[0], top)
    return tuple(
        f"it imports {top}, from the distribution {dist}, which neither the bot's nor "
        "safetrade's requirements name: its version would not be bound"
        for dist, top in sorted(found.items())
    )


def launcher_dirs() -> list[str]:
    """Where console-script launchers are written.

    The environment's scripts folder, and the user's (``pip install --user``) where Python
    reads the user site.
    """
    dirs = [sysconfig.get_paths()["scripts"]]
    if site.ENABLE_USER_SITE:
        dirs.append(sysconfig.get_path("scripts", f"{os.name}_user"))
    return dirs


# Every file name ending Python imports a module from (source, sourceless .pyc, extension
# modules), longest first so "x.cpython-311-x86_64-linux-gnu.so" is x, not "x.cpython-311-...".
_IMPORT_SUFFIXES = tuple(sorted(importlib.machinery.all_suffixes(), key=len, reverse=True))


def _module_stem(name: str) -> str | None:
    """The module a file of this name is imported as, or None if Python imports none."""
    for suffix in _IMPORT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            return stem if stem.isidentifier() else None
    return None


def shadowing_files(
    bot_package: str, dependencies: Iterable[str], first_path: str | None = None
) -> tuple[str, ...]:
    """Files in the first ``sys.path`` folder named like a dependency or a standard module.

    ``python -m bot`` puts the working directory first on ``sys.path`` (a script puts its own
    folder): a ``six.py`` or ``decimal.py`` there is imported instead of the certified one
    whenever the bot imports it, also after start-up, when no loaded-module check sees it.

    Args:
        bot_package: The bot's package (its own folder may sit there).
        dependencies: Names of the distributions bound by version (their top-level names).
        first_path: The folder to look in (default ``sys.path[0]``; ``""`` is the cwd).
    """
    first = sys.path[0] if first_path is None else first_path
    folder = first or os.getcwd()
    if not os.path.isdir(folder):
        return ()
    named = installed.by_name()
    owner = {
        top: dist.name
        for name in dependencies
        if (dist := named.get(installed.normalise(name))) is not None
        for top in dist.top_level
    }
    # the bot's own package, and the standard library's regression tests (nothing running
    # imports ``test``; a project's own test/ folder is no threat)
    own = {bot_package.partition(".")[0], "safetrade", "test"}
    found = []
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.is_file():
                stem = _module_stem(entry.name)
            elif entry.is_dir() and any(
                os.path.isfile(os.path.join(entry.path, f"__init__{suffix}"))
                for suffix in _IMPORT_SUFFIXES
            ):
                stem = entry.name
            else:
                continue
            if stem is None:
                continue
            if stem in own or stem in sys.builtin_module_names:
                continue  # built into the interpreter: found before sys.path is searched
            if stem in sys.stdlib_module_names:
                what = f"the standard module {stem}"
            elif stem in owner:
                what = f"{stem} of the dependency {owner[stem]}"
            else:
                continue
            found.append(
                f"{real_path(entry.path)} sits first on sys.path ({folder}) and is named like "
                f"{what}: it would be imported instead, whenever the bot imports it (run from "
                "another folder, or with PYTHONSAFEPATH=1 / python -P)"
            )
    return tuple(found)
