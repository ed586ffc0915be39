"""``safetrade conformance``: install the bot if it is a folder, check its contract, run it.

``tox -e certify -- --bot PATH_OR_NAME`` runs this first. It fails fast (exit 2, in seconds)
when the bot cannot be installed, imported or built; otherwise it runs every conformance
scenario, writes ``OUT/conformance.json`` and prints each finding, and exits 0 whether the bot
passed or not: ``safetrade certify`` decides, and writes the report that names the failures.

The record is sealed as it is written (``OUT/conformance.seal.json``,
:mod:`safetrade.certification.seal`): its sha256, the bot's package and tree digest, the ccxt
tree digest and the run-time distributions the bot ran with, and the run's start, signed with
the key certify signs with, so certify refuses a record edited or grafted together afterwards,
and one whose ccxt or distributions differ from what it signs. The key is loaded before the bot
runs (as certify loads it: the configured key, else the local developer key); an unusable
configured key stops the run.
"""

from __future__ import annotations

import importlib
import io
import logging
import os
import site
import subprocess
import sys
import sysconfig
import tempfile
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from safetrade.certification.bots import bot_package, check_offers_contract, load_bot
from safetrade.certification.digest import tree_digest
from safetrade.certification.keys import load_signing_key
from safetrade.certification.seal import (
    CONFORMANCE_SEAL,
    conformance_environment,
    seal_conformance,
)
from safetrade.errors import BotContractError

if TYPE_CHECKING:
    import argparse

    from safetrade.certification.bots import BotUnderTest
    from safetrade.certification.conformance.result import ConformanceResult

__all__ = ["configure", "install_bot_folder", "run"]

CONFORMANCE_NAME = "conformance.json"
_EXIT_BOT_UNUSABLE = 2


def configure(parser: argparse.ArgumentParser, name: str) -> None:
    """Add the arguments of ``safetrade conformance``."""
    del name
    parser.add_argument(
        "--bot",
        default=None,
        help="the bot to certify: a folder with a pyproject.toml (installed editable first), "
        "an installed distribution, an entry point of group safetrade.bots, or "
        "module:factory. Default: safetrade's reference bot",
    )
    parser.add_argument("--out", type=Path, default=Path("certification/out"), help="output folder")
    parser.add_argument(
        "--check-only",
        action="store_true",
        help="only check that the bot installs, imports and offers the contract",
    )
    parser.add_argument(
        "--log", type=Path, default=None, help="bot log file (default OUT/conformance.log)"
    )


def install_bot_folder(folder: Path) -> str:
    """``pip install -e FOLDER`` into this environment; return the distribution's name.

    Editable, so the bot certified and digested is the bot's own source folder: an edit
    after certification is seen by the live gate.

    Raises:
        BotContractError: No usable pyproject.toml, or pip failed.
    """
    pyproject = folder / "pyproject.toml"
    try:
        name = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["name"]
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise BotContractError(
            f"bot folder {folder}: no [project] name in {pyproject}",
            why=f"{type(exc).__name__}: {exc}",
            fix="give the bot a pyproject.toml with [project] name and its "
            '[project.entry-points."safetrade.bots"] factory',
        ) from exc
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--editable", str(folder)]
    print(f"installing bot {name} from {folder} (editable)", flush=True)
    done = subprocess.run(command, check=False)  # noqa: S603 -- our interpreter, a fixed argv
    if done.returncode != 0:
        raise BotContractError(
            f"installing the bot folder {folder} failed (pip exit {done.returncode})",
            why="pip's output is above",
            fix=f"make `python -m pip install -e {folder}` work in this environment",
        )
    # an editable install is a .pth file, read only at interpreter start-up: read it now
    site.addsitedir(sysconfig.get_paths()["purelib"])
    importlib.invalidate_caches()
    return str(name)


def _resolve(spec: str | None) -> str | None:
    if spec is None:
        return None
    folder = Path(spec).expanduser()
    if folder.is_dir():
        if not (folder / "pyproject.toml").is_file():
            raise BotContractError(
                f"bot folder {folder} has no pyproject.toml",
                fix="point --bot at the folder holding the bot's pyproject.toml, or name an "
                "installed distribution or module:factory",
            )
        return install_bot_folder(folder.resolve())
    return spec


def _load(bot_spec: str | None) -> BotUnderTest:
    """Import the bot, check what it imported is bound, then that it offers the contract."""
    from safetrade.certification.provenance import undeclared_imports  # noqa: PLC0415

    before = set(sys.modules)
    bot = load_bot(bot_spec)
    new = {name: sys.modules[name] for name in set(sys.modules) - before if name in sys.modules}
    undeclared = undeclared_imports(bot.package, new)
    if undeclared:
        raise BotContractError(
            f"bot {bot.spec!r}: {'; '.join(undeclared)}",
            fix="add each distribution named to the bot's `[project] dependencies` in its "
            "pyproject.toml, then certify again",
        )
    _check_contract(bot)
    return bot


def _check_contract(bot: BotUnderTest) -> None:
    from safetrade.certification.conformance.scenarios import SCENARIOS  # noqa: PLC0415
    from safetrade.certification.conformance.stage import Stage  # noqa: PLC0415
    from safetrade.certification.provenance import measure_running_code  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="safetrade-contract-") as scratch:
        stage = Stage(bot, measure_running_code(bot.package), SCENARIOS[0].setup, Path(scratch))
        try:
            check_offers_contract(bot, stage.context)
        finally:
            stage.close()
    from safetrade.certification.gate import loaded_module_problems  # noqa: PLC0415

    outside = loaded_module_problems(bot.package)
    if outside:
        raise BotContractError(
            f"bot {bot.spec!r} imports code its certification would not cover, so its live "
            f"start-up would be refused: {'; '.join(outside)}",
            fix=f"keep all of the bot's code inside its package {bot.package!r} (one top-level "
            "package per bot distribution), then certify again",
        )


def _covered_run(bot_spec: str | None) -> tuple[BotUnderTest, ConformanceResult]:
    """Load and run the bot under coverage of its own package (when coverage.py is here)."""
    from safetrade.certification.conformance.runner import run_conformance  # noqa: PLC0415

    try:
        import coverage  # noqa: PLC0415 -- optional: the certify env has it
    except ImportError:  # pragma: no cover - certify installs coverage
        measuring: bool = False
    else:
        measuring = coverage.Coverage.current() is None
    if not measuring:
        # no coverage.py, or one already measuring this process (a test run): a second one
        # would pause it, so the bot's coverage is not measured here
        bot = _load(bot_spec)
        return bot, run_conformance(bot)
    cov = coverage.Coverage(
        source=[bot_package(bot_spec)], branch=True, data_file=None, config_file=False
    )
    # an installed bot may have been imported before (e.g. by a .pth file): not a problem
    cov.set_option("run:disable_warnings", ["module-not-measured", "no-data-collected"])
    cov.start()
    try:
        bot = _load(bot_spec)
        result = run_conformance(bot)
    finally:
        cov.stop()
    try:
        percent: float | None = cov.report(file=io.StringIO())
    except coverage.CoverageException:
        percent = None
    return bot, attrs.evolve(result, bot_coverage=percent)


def _print(result: ConformanceResult) -> None:
    for scenario in result.scenarios:
        print(f"  [{'PASS' if scenario.passed else 'FAIL'}] {scenario.id}: {scenario.title}")
        for finding in scenario.findings:
            if not finding.passed:
                print(f"         {finding.control}: {finding.title}")
                print(f"           incident: {finding.incident_line}")
                print(f"           {finding.detail}")
    print(
        f"conformance: {sum(s.passed for s in result.scenarios)}/{len(result.scenarios)} "
        f"scenarios passed in {result.seconds:.1f}s; bot coverage "
        f"{'n/a' if result.bot_coverage is None else f'{result.bot_coverage:.1f}%'}"
    )


def _environment(package: str) -> dict[str, Any]:
    """The ccxt code and the distributions the bot ran on, measured as certify measures them.

    Certify signs what it measures when it runs, later: it compares that with this record, so
    an ``attrs`` upgraded or a ccxt file edited after the run is never signed as exercised.
    """
    from safetrade.certification.provenance import measure_running_code  # noqa: PLC0415

    running = measure_running_code(package)
    return conformance_environment(tree_digest(running.ccxt_files), running.distributions)


def run(args: argparse.Namespace, name: str) -> int:
    """Run ``safetrade conformance``."""
    del name
    started = datetime.now(UTC)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    target = out / CONFORMANCE_NAME
    for stale in (target, out / CONFORMANCE_SEAL):
        stale.unlink(missing_ok=True)  # a stale run must never certify this one
    log_path: Path = args.log or out / "conformance.log"
    handler = logging.FileHandler(log_path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        spec = _resolve(args.bot)
        if args.check_only:
            bot = load_bot(spec)
            _check_contract(bot)
            print(f"bot offers the contract: {bot.describe()}")
            return 0
        # before the bot runs: a record that cannot be sealed would be refused by certify
        signing_key = load_signing_key(os.environ, Path.home())
        bot, result = _covered_run(spec)
    except BotContractError as exc:
        print(f"safetrade conformance: {exc}", file=sys.stderr)
        return _EXIT_BOT_UNUSABLE
    finally:
        root.removeHandler(handler)
        handler.close()
    if bot.is_reference:
        print("no --bot named: certifying safetrade's REFERENCE BOT, not your bot")
    print(f"bot under certification: {bot.describe()}")
    _print(result)
    print(f"bot log: {log_path}")
    target.write_bytes(result.dumps())
    seal = seal_conformance(
        target,
        bot=result.bot.to_json(),
        safetrade_dir_hash=result.safetrade_dir_hash,
        signing_key=signing_key,
        started_at=started,
        now=datetime.now(UTC),
        environment=_environment(result.bot.package),
    )
    print(f"wrote {target} ({'PASSED' if result.passed else 'FAILED'}), sealed in {seal.name}")
    return 0
