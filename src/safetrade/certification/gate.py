"""The live-mode gate: is there a valid certification for exactly the code about to run?

Checks run in a fixed order and *all* problems are collected, so one refusal lists everything
to fix. Order: artifact readable → signature by a trusted key (never a key named in the
artifact) → payload/statement/predicate types → freshness → result and scenarios → safetrade
code digest → bot package digest → bytecode → the loaded modules (live start-up only) → bot
conformance → ccxt code → distributions → config schema digest.

If the signature does not verify, the remaining checks still run on the unauthenticated payload
(when it parses) so the refusal is complete, but each such finding says "unauthenticated", and
the verdict can never be OK without a trusted signature.

Threat model: this in-process gate catches accidents (drift, stale or failed certification,
untested hotfixes, wrong bot); it cannot stop someone who can edit the installed code itself.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from safetrade.certification.closure import describe_differences
from safetrade.certification.conformance.result import REQUIRED_CONTROLS
from safetrade.certification.digest import diff_trees, tree_digest
from safetrade.certification.dsse import (
    PAYLOAD_TYPE,
    EnvelopeFormatError,
    parse_envelope,
    verify_signatures,
)
from safetrade.certification.keys import PublicKey, load_trusted_keys
from safetrade.certification.policy import (
    MAX_VALIDITY_DAYS,
    below_floor,
    deviations,
    scenario_is_required,
    stricter,
)
from safetrade.certification.predicate import (
    ConformanceRecord,
    PredicateError,
    PredicateParts,
    Validity,
)
from safetrade.certification.provenance import (
    LoadedModules,
    RunningCode,
    check_loaded_modules,
    measure_running_code,
)
from safetrade.certification.statement import (
    BOT_SUBJECT_PREFIX,
    CCXT_SUBJECT,
    CONFIG_SUBJECT,
    PREDICATE_TYPE,
    SAFETRADE_SUBJECT,
    STATEMENT_TYPE,
)
from safetrade.config import DEVELOPER_KEY_CONSENT
from safetrade.errors import CertificationError, SafetradeError

__all__ = [
    "CLOCK_SKEW",
    "DEFAULT_ARTIFACT",
    "CertifiedRun",
    "Check",
    "Verdict",
    "allow_test_harness",
    "check_certification",
    "evaluate",
    "require_valid",
    "verify_artifact",
]

_log = logging.getLogger("safetrade.certification")

DEFAULT_ARTIFACT = Path("certification/out/safetrade.cert.json")
#: Tolerated clock difference between the certifying machine and the live machine.
CLOCK_SKEW = timedelta(minutes=5)
#: Larger artifacts are refused unread (a real one is tens of kilobytes).
MAX_ARTIFACT_BYTES = 8 * 1024 * 1024
_WARN_BEFORE_EXPIRY = timedelta(days=7)

# Every gate check, in the order it runs and is printed, with the fix its failure names.
_GATE_CHECKS: tuple[tuple[str, str], ...] = (
    ("artifact", "run `tox -e certify` and point live mode at "
     "certification/out/safetrade.cert.json"),
    ("signature", "add the signer's public key to SAFETRADE_TRUSTED_KEYS (only if you trust it), "
     "or re-run `tox -e certify` with a trusted key (SAFETRADE_CERT_KEY_FILE)"),
    ("statement type", "re-run `tox -e certify` with this safetrade version"),
    ("freshness", "re-run `tox -e certify` to renew the certification"),
    ("result", "fix the failing scenarios, then re-run `tox -e certify`"),
    ("safetrade code", "re-run `tox -e certify` for the deployed code, or deploy the certified "
     "code"),
    ("bot package", "re-run `tox -e certify` (`-- --bot YOUR_BOT` for your own bot) for the "
     "bot you run"),
    ("bytecode", "delete the __pycache__ folders and the .pyc files named (Python recompiles "
     "them from the certified sources; data the bot reads belongs beside its sources, never in "
     "__pycache__); move a file named like a standard module off the path it shadows from (or "
     "start the bot with `python -I`); unset PYTHONHOME, PYTHONPLATLIBDIR and PYTHONUSERBASE; "
     "and find out who wrote them"),
    ("loaded modules", "move each module named into your bot's package and re-run `tox -e "
     "certify` (`-- --bot YOUR_BOT`); start the bot from its package (`python -m "
     "YOUR_BOT_PACKAGE`) or its console script, never from a script outside it"),
    ("bot conformance", "re-run `tox -e certify` (`-- --bot YOUR_BOT` for your own bot): it "
     "runs the bot through the conformance scenarios before it signs"),
    ("ccxt code", "reinstall the certified ccxt (pip install --force-reinstall ccxt==VERSION), "
     "or re-run `tox -e certify` with the ccxt you run"),
    ("distributions", "install the certified versions (listed by `safetrade verify`), or "
     "re-run `tox -e certify` in the environment you run live"),
    ("config schema", "re-run `tox -e certify` after the settings schema change"),
)  # fmt: skip
CHECK_NAMES = tuple(name for name, _fix in _GATE_CHECKS)
_FIXES = dict(_GATE_CHECKS)


@attrs.frozen
class Check:
    """One gate check: its fixed name, whether it passed, and what was found.

    The same shape as the guard's ``Check`` and the preflight's ``PreflightCheck``:
    a name, ``passed``, a ``detail``.
    """

    name: str
    passed: bool
    detail: str
    #: False when the check could not run (no artifact, an unreadable one): it failed, but
    #: its own fix would repair nothing, so the verdict's fix leaves it out
    judged: bool = attrs.field(default=True, kw_only=True)


def _unjudged(name: str, detail: str) -> Check:
    return Check(name, False, detail, judged=False)


@attrs.frozen
class Verdict:
    """Every check's outcome; ``ok`` only when all passed."""

    artifact: str
    checks: tuple[Check, ...]
    signer: PublicKey | None
    statement: Mapping[str, Any] | None
    notes: tuple[str, ...] = ()
    #: signed with a developer key: the artifact says so, or the signer is this machine's
    #: auto-created key (however certify was told to use it)
    developer_key: bool = False

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return all(c.passed for c in self.checks)

    @property
    def problems(self) -> tuple[str, ...]:
        """``"<check>: <detail>"`` for each failed check, in check order."""
        return tuple(f"{c.name}: {c.detail}" for c in self.checks if not c.passed)

    @property
    def fix(self) -> str:
        """The commands that repair the failed checks (deduplicated, in order).

        Only checks that ran and failed name a fix: with no artifact, the fourteen checks that
        could not run would otherwise bury "run `tox -e certify`" under fourteen unrelated
        commands.
        """
        fixes = dict.fromkeys(_FIXES[c.name] for c in self.checks if not c.passed and c.judged)
        return "; ".join(fixes) if fixes else ""

    def table(self) -> str:
        """Render the verdict as a plain-text table for terminals and logs."""
        width = max(len(n) for n in CHECK_NAMES)
        lines = [f"certification {self.artifact}: {'VALID' if self.ok else 'REFUSED'}"]
        for check in self.checks:
            mark = "ok  " if check.passed else "FAIL"
            lines.append(f"  [{mark}] {check.name:<{width}}  {check.detail}")
        lines.extend(f"  note: {n}" for n in self.notes)
        if not self.ok:
            lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)


#: Marks runs :func:`require_valid` issued; a hand-built CertifiedRun does not carry it.
_ISSUED_BY_GATE = object()

_MODULES_NOT_CHECKED = (
    "checked at live start-up: only require_valid() runs in the process about to trade"
)

#: Folders and files of a test suite whose modules live start-up accepts (allow_test_harness).
_HARNESS: tuple[Path, ...] = ()


def allow_test_harness(*paths: Path | str) -> None:
    """Accept modules loaded from ``paths`` at live start-up: for a test suite's own files only.

    :func:`require_valid` refuses to start when a loaded module comes from outside the
    certified trees, the standard library and site-packages. A test suite that exercises a
    bot's live start-up in-process (safetrade's own, under pytest) has its test modules,
    step definitions and ``conftest.py`` loaded from the repository, outside all of those; its
    root ``conftest.py`` names them here. Nothing calls this by default, nothing in a live
    process should, and ``safetrade conformance`` (the certify run) does not: the check holds
    there in full. Each call replaces the previous list; no argument clears it. A start that
    accepted harness modules says how many in the ``loaded modules`` row of its verdict.

    Args:
        paths: Folders (every module under them) and files (that module) of the test suite.
    """
    global _HARNESS  # noqa: PLW0603 -- one process-wide, explicit allowance
    _HARNESS = tuple(Path(os.path.realpath(p)) for p in paths)


@attrs.frozen
class CertifiedRun:
    """What the gate accepted: pass it to ``Gateway.kucoin(..., certified=run)``.

    Only :func:`require_valid` issues one; a run built by hand is refused by the gateway.
    """

    artifact: str
    signer: PublicKey
    developer_key: bool
    issued_at: datetime
    expires_at: datetime
    git_commit: str | None
    safetrade_digest: str
    bot_package: str
    notes: tuple[str, ...]
    _issued: object = attrs.field(default=None, repr=False, eq=False, alias="issued")

    def ensure_current(self, now: datetime | None = None) -> None:
        """Refuse a run the gate did not issue, or one whose certification has expired.

        Raises:
            CertificationError: Built by hand, or expired since the gate accepted it.
        """
        if self._issued is not _ISSUED_BY_GATE:
            raise CertificationError(
                ["this CertifiedRun was not issued by require_valid()"],
                fix="pass what safetrade.certification.require_valid(...) returned",
            )
        moment = now if now is not None else datetime.now(UTC)
        if self.expires_at <= moment:
            raise CertificationError(
                [f"the certification expired at {self.expires_at:%Y-%m-%dT%H:%M:%SZ}"],
                fix="re-run `tox -e certify` and restart the bot",
            )

    def summary(self) -> str:
        """One log line, e.g. ``certified: commit abc tree d1 keyid SHA256:… expires …``."""
        commit = (self.git_commit or "unknown")[:12]
        return (
            f"certified: commit {commit} tree {self.safetrade_digest[:16]} bot {self.bot_package} "
            f"key {self.signer.fingerprint} expires {self.expires_at:%Y-%m-%dT%H:%M:%SZ}"
        )


def _mapping(value: object) -> Mapping[str, Any]:
    """Return ``value`` if it is a JSON object, else an empty one (malformed input)."""
    return value if isinstance(value, Mapping) else {}


def _subject(statement: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    for subject in statement.get("subject", []) or []:
        if isinstance(subject, Mapping) and subject.get("name") == name:
            return subject
    return None


def _bot_subject(statement: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for subject in statement.get("subject", []) or []:
        if isinstance(subject, Mapping) and str(subject.get("name", "")).startswith(
            BOT_SUBJECT_PREFIX
        ):
            return subject
    return None


def _check_types(payload_type: str, statement: Mapping[str, Any]) -> str | None:
    wrong = []
    if payload_type != PAYLOAD_TYPE:
        wrong.append(f"payloadType {payload_type!r} != {PAYLOAD_TYPE!r}")
    if statement.get("_type") != STATEMENT_TYPE:
        wrong.append(f"_type {statement.get('_type')!r} != {STATEMENT_TYPE!r}")
    if statement.get("predicateType") != PREDICATE_TYPE:
        wrong.append(f"predicateType {statement.get('predicateType')!r} != {PREDICATE_TYPE!r}")
    if not isinstance(statement.get("predicate"), Mapping):
        wrong.append("predicate is not an object")
    else:
        # the parts no later check judges, but live start-up and the notes read
        parts = PredicateParts(statement["predicate"])
        for read in (parts.signer, parts.source, parts.files):
            try:
                read()
            except PredicateError as exc:
                wrong.append(exc.what)
    return "; ".join(wrong) or None


def _validity(parts: PredicateParts) -> Validity | None:
    try:
        return parts.validity()
    except PredicateError:
        return None


def _check_freshness(parts: PredicateParts, now: datetime) -> str | None:
    try:
        validity = parts.validity()
    except PredicateError as exc:
        return f"unreadable issuedAt/expiresAt: {exc.what}"
    issued, expires = validity.issued_at, validity.expires_at
    wrong = []
    if expires <= now:
        wrong.append(f"expired at {expires:%Y-%m-%dT%H:%M:%SZ} ({(now - expires).days} day(s) ago)")
    if issued > now + CLOCK_SKEW:
        wrong.append(f"issued in the future ({issued:%Y-%m-%dT%H:%M:%SZ}); check the clocks")
    if expires - issued > timedelta(days=MAX_VALIDITY_DAYS):
        wrong.append(
            f"validity {(expires - issued).days} days exceeds the library maximum of "
            f"{MAX_VALIDITY_DAYS}"
        )
    return "; ".join(wrong) or None


def _check_result(parts: PredicateParts) -> str | None:
    wrong = []
    try:
        result = parts.result()
    except PredicateError as exc:
        wrong.append(exc.what)
    else:
        if result != "PASSED":
            wrong.append(f"result is {result!r}, not 'PASSED'")
    try:
        suite = parts.suite()
    except PredicateError as exc:
        return "; ".join([*wrong, f"unreadable scenario results: {exc.what}"])
    if suite is None:
        return "; ".join([*wrong, "no scenario results in the artifact"])
    try:
        policy = parts.policy()
    except PredicateError as exc:
        wrong.append(f"unreadable policy: {exc.what}")
        allow_skipped, required_controls, required_tags = False, set[str](), set[str]()
    else:
        wrong.extend(
            f"policy below the library floor: {why}" for why in below_floor(policy.to_json())
        )
        allow_skipped = policy.allow_skipped
        required_controls = set(policy.required_controls)
        required_tags = set(policy.required_tags)
    scenarios = suite.scenarios
    if not scenarios:
        wrong.append("the artifact lists no scenarios")
    for scenario in scenarios:
        outcome = scenario.outcome
        required = scenario_is_required(
            scenario.controls,
            scenario.incidents,
            required_controls=required_controls,
            required_tags=required_tags,
        )
        if outcome == "passed" or (outcome == "skipped" and allow_skipped and not required):
            continue
        wrong.append(f"{outcome} {'required ' if required else ''}scenario {scenario.id}")
    counts = suite.counts
    if counts.inventory != len(scenarios) or counts.not_executed:
        wrong.append(f"scenario counts do not reconcile: {counts.to_json()}")
    try:
        controls = parts.controls()
    except PredicateError as exc:
        wrong.append(f"unreadable controls matrix: {exc.what}")
        controls = ()
    wrong.extend(
        f"required control {row.control} is {row.status}"
        for row in controls
        if row.required and row.status != "PASS"
    )
    wrong.extend(f"test {test.outcome}: {test.nodeid}" for test in suite.failing_tests)
    return "; ".join(wrong) or None


def _check_tree(
    subject: Mapping[str, Any] | None,
    certified_files: object,
    running_files: Mapping[str, str],
    what: str,
) -> str | None:
    if subject is None:
        return f"the artifact binds no {what}"
    expected = subject.get("digest", {}).get("dirHash")
    actual = tree_digest(running_files)
    if expected == actual:
        return None
    if isinstance(certified_files, Mapping):
        diff = diff_trees(certified_files, running_files)
        if not diff.empty:
            return f"{what} differs from the certified code: {diff.describe()}"
    return f"{what} digest {actual[:16]}… != certified {str(expected)[:16]}…"


def _check_conformance(parts: PredicateParts, bot_subject: Mapping[str, Any] | None) -> str | None:
    """The bot the artifact binds is the bot that was exercised, and it passed."""
    try:
        conformance: ConformanceRecord | None = parts.conformance()
    except PredicateError as exc:
        return f"unreadable conformance run: {exc.what}"
    if conformance is None:
        return (
            "the bot was only hashed, never exercised: the artifact holds no conformance run of it"
        )
    if bot_subject is None:
        return "the artifact binds no bot package"
    bot = conformance.bot
    certified = str(bot_subject.get("name", ""))[len(BOT_SUBJECT_PREFIX) :]
    if bot.package != certified:
        return f"the conformance run exercised {bot.package!r}, not the certified bot {certified!r}"
    if bot.dir_hash != _mapping(bot_subject.get("digest")).get("dirHash"):
        return "the conformance run exercised other code of the bot than the artifact binds"
    if not conformance.scenarios:
        return "the conformance run lists no scenarios"
    wrong = []
    judged: set[str] = set()
    for scenario in conformance.scenarios:
        if not scenario.passed or not scenario.findings:
            wrong.append(f"scenario {scenario.id!r} did not pass")
        for finding in scenario.findings:
            if finding.passed:
                judged.add(finding.control)
            else:
                wrong.append(f"control {finding.control!r} failed")
    wrong.extend(
        f"required control {c!r} not evidenced" for c in REQUIRED_CONTROLS if c not in judged
    )
    if conformance.result != "PASSED":
        wrong.insert(0, f"result is {conformance.result!r}, not 'PASSED'")
    return "; ".join(wrong) or None


def _check_interpreter(parts: PredicateParts, running: RunningCode) -> str | None:
    """The suite and the bot's conformance ran on one Python; live runs on that one."""
    if running.interpreter is None:
        return None  # a hand-built RunningCode (tests); measure_running_code always records it
    try:
        recorded = parts.versions()
    except PredicateError as exc:
        return f"unreadable versions: {exc.what}"
    certified = {key: recorded.get(key) for key in running.interpreter}
    if certified == dict(running.interpreter):
        return None
    return (
        f"certified on {' '.join(str(v) for v in certified.values())}, running on "
        f"{' '.join(running.interpreter.values())}: start the bot with the Python of the "
        "environment it was certified in"
    )


def evaluate(
    artifact: bytes | None,
    *,
    trusted_keys: Sequence[PublicKey],
    running: RunningCode,
    now: datetime,
    artifact_name: str = "artifact",
) -> Verdict:
    """Check an artifact's bytes against trusted keys and the measured running code (pure).

    Args:
        artifact: The artifact file's bytes, or None when the file does not exist.
        trusted_keys: Public keys allowed to sign certifications.
        running: Digests of the code that is about to run.
        now: The current time (timezone-aware).
        artifact_name: How to name the artifact in messages (usually its path).
    """
    if artifact is None:
        checks = [Check("artifact", False, f"{artifact_name} does not exist")]
        checks += [_unjudged(n, "not checked: no artifact") for n in CHECK_NAMES[1:]]
        return Verdict(artifact_name, tuple(checks), None, None)
    try:
        envelope = parse_envelope(artifact)
    except EnvelopeFormatError as exc:
        checks = [Check("artifact", False, f"not a DSSE envelope: {exc}")]
        checks += [_unjudged(n, "not checked: artifact unreadable") for n in CHECK_NAMES[1:]]
        return Verdict(artifact_name, tuple(checks), None, None)
    checks = [Check("artifact", True, "DSSE envelope parsed")]
    signature = verify_signatures(envelope, trusted_keys)
    checks.append(Check("signature", signature.ok, signature.reason))
    prefix = "" if signature.ok else "(unauthenticated payload) "
    try:
        statement = json.loads(envelope.payload)
        if not isinstance(statement, Mapping):
            raise TypeError("payload is not a JSON object")
    except (ValueError, TypeError, RecursionError) as exc:
        detail = f"payload is not a JSON statement: {exc}"
        # the statement type check judged it; the rest could not run on no statement
        checks.append(Check(CHECK_NAMES[2], False, prefix + detail))
        checks += [_unjudged(n, prefix + detail) for n in CHECK_NAMES[3:]]
        return Verdict(artifact_name, tuple(checks), signature.signer, None)

    def add(name: str, problem: str | None, ok_detail: str) -> None:
        checks.append(
            Check(name, problem is None, ok_detail if problem is None else prefix + problem)
        )

    add(
        "statement type",
        _check_types(envelope.payload_type, statement),
        "in-toto Statement v1, safetrade v1",
    )
    parts = PredicateParts(statement.get("predicate"))
    validity = _validity(parts)
    add(
        "freshness",
        _check_freshness(parts, now),
        f"valid until {validity.expires_at:%Y-%m-%dT%H:%M:%SZ}" if validity else "",
    )
    add("result", _check_result(parts), "PASSED; every scenario passed")
    try:
        files = parts.files()
    except PredicateError:
        files = None  # named by the statement type check; the digests still decide
    add(
        "safetrade code",
        _check_tree(
            _subject(statement, SAFETRADE_SUBJECT),
            files.safetrade if files else None,
            running.safetrade_files,
            "safetrade",
        ),
        f"tree {tree_digest(running.safetrade_files)[:16]}… matches",
    )
    bot_subject = _bot_subject(statement)
    certified_bot = (
        str(bot_subject.get("name", ""))[len(BOT_SUBJECT_PREFIX) :] if bot_subject else None
    )
    if running.bot_error:
        bot_problem: str | None = (
            f"bot package {running.bot_package!r} cannot be digested: {running.bot_error}"
        )
    elif certified_bot is not None and certified_bot != running.bot_package:
        bot_problem = (
            f"certified for bot package {certified_bot!r}, but running {running.bot_package!r}"
        )
    else:
        bot_problem = _check_tree(
            bot_subject,
            files.bot if files else None,
            running.bot_files,
            f"bot package {running.bot_package!r}",
        )
    add("bot package", bot_problem, f"{running.bot_package} matches")
    add(
        "bytecode",
        "; ".join(running.bytecode_problems) or None,
        "no bytecode other than the sources' own, no shadowed standard module",
    )
    loaded = running.loaded_modules
    if loaded is None:
        checks.append(Check("loaded modules", True, _MODULES_NOT_CHECKED))
    else:
        harness = (
            f" ({loaded.harness} more from a test harness: allow_test_harness)"
            if loaded.harness
            else ""
        )
        add(
            "loaded modules",
            "; ".join(loaded.problems) or None,
            f"all {loaded.checked} loaded modules come from safetrade, {running.bot_package}, "
            f"the standard library or site-packages{harness}",
        )
    add(
        "bot conformance",
        _check_conformance(parts, bot_subject),
        f"{certified_bot} passed every conformance scenario",
    )
    add(
        "ccxt code",
        _check_tree(
            _subject(statement, CCXT_SUBJECT),
            files.ccxt if files else None,
            running.ccxt_files,
            "ccxt",
        ),
        f"ccxt {tree_digest(running.ccxt_files)[:16]}… matches",
    )
    try:
        environment = parts.environment()
    except PredicateError as exc:
        dist_problem: str | None = f"unreadable run-time distributions: {exc.what}"
    else:
        if environment is None:
            dist_problem = "the artifact records no run-time distributions"
        else:
            changed = describe_differences(
                dict(environment.distributions), dict(running.distributions)
            )
            dist_problem = f"run-time distributions differ: {changed}" if changed else None
            if dist_problem and running.bot_distributions == ():
                # the certified bot came with its distribution; this copy has none, so what
                # that distribution required is missing from the running side, not uninstalled
                dist_problem += (
                    f" (the bot package {running.bot_package} is imported from a copy that no "
                    "installed distribution provides: run the installed bot, e.g. from "
                    "another folder)"
                )
    python_problem = _check_interpreter(parts, running)
    if python_problem is not None:
        dist_problem = "; ".join(p for p in (python_problem, dist_problem) if p)
    python = " ".join((running.interpreter or {}).values())
    add(
        "distributions",
        dist_problem,
        f"{len(running.distributions)} distributions match" + (f", on {python}" if python else ""),
    )
    config_subject = _subject(statement, CONFIG_SUBJECT)
    if running.config_error:
        config_problem: str | None = (
            f"running config schema cannot be digested: {running.config_error}"
        )
    elif config_subject is None:
        config_problem = "the artifact binds no config schema"
    elif config_subject.get("digest", {}).get("sha256") != running.config_schema_digest:
        config_problem = (
            "settings schema differs from the certified schema (settings_schema() changed)"
        )
    else:
        config_problem = None
    add("config schema", config_problem, "settings schema matches")

    notes = []
    try:
        policy = parts.policy()
    except PredicateError as exc:
        notes.append(f"policy unreadable: {exc.what}")
    else:
        notes.append(
            f"policy sha256:{policy.digest[:16]}…, {_policy_note(policy.to_json(), parts)}"
        )
    try:
        developer = parts.signer().developer_key
    except PredicateError:
        developer = False  # the statement type check names it
    if signature.signer is not None and signature.signer == running.developer_key:
        developer = True
    if developer:
        notes.append("signed with a local developer key: do not trust it for production")
    if validity is not None:
        remaining = validity.expires_at - now
        if timedelta(0) < remaining < _WARN_BEFORE_EXPIRY:
            notes.append(f"expires in {remaining.days} day(s): re-run `tox -e certify` soon")
    return Verdict(
        artifact_name,
        tuple(checks),
        signature.signer,
        statement,
        tuple(notes),
        developer_key=developer,
    )


def _policy_note(policy: Mapping[str, Any], parts: PredicateParts) -> str:
    """How the policy the run was judged by compares with the one the library ships.

    "as the library ships it" only when nothing differs: the [certificate], [scenarios] and
    [coverage] tables (the policy record) and [paper] (recorded in the predicate's paper part;
    an artifact from before paper evidence existed records none, and certify always does).
    """
    try:
        record = parts.paper()
    except PredicateError as exc:
        paper: Mapping[str, Any] | None = None
        unread: list[str] = [f"[paper] requirement unreadable: {exc.what}"]
    else:
        paper, unread = (None if record is None else record.requirement), []
    weaker = [*unread, *deviations(policy, paper)]
    other = stricter(policy, paper)
    if weaker:
        also = f" (stricter: {'; '.join(other)})" if other else ""
        return "BELOW THE LIBRARY DEFAULT: " + "; ".join(weaker) + also
    if other:
        return "stricter than the library ships it: " + "; ".join(other)
    return "as the library ships it"


def verify_artifact(
    artifact_path: Path | str,
    *,
    trusted_keys: Path | str | Sequence[PublicKey] | None,
    bot_package: str | None = None,
    now: datetime | None = None,
    running: RunningCode | None = None,
    modules: Mapping[str, object] | None = None,
) -> Verdict:
    """Read the artifact and measure the running code, then :func:`evaluate`. Never raises.

    Args:
        artifact_path: Path of the DSSE envelope written by ``safetrade certify``.
        trusted_keys: Trusted public keys, a trusted-keys file, or None for
            ``$SAFETRADE_TRUSTED_KEYS``. Keys inside the artifact are never trusted.
        bot_package: Importable name of the bot about to run; None for the bot the artifact
            names (what ``safetrade verify`` shows a reviewer). Live start-up always names it.
        now: Current time; defaults to the system clock.
        running: Pre-measured running code (tests and callers that already hashed it).
        modules: The modules loaded in the process about to trade (:func:`require_valid`
            passes ``sys.modules``): each must come from a certified tree, the standard
            library or site-packages. None: not checked (``safetrade verify`` and preflight
            run in a process of their own).
    """
    path = Path(artifact_path)
    name = str(path)
    if now is not None and getattr(now, "tzinfo", None) is None:
        return _refused_whole(name, f"the time to check against ({now!r}) has no timezone")
    moment = now if now is not None else datetime.now(UTC)
    try:
        keys = load_trusted_keys(trusted_keys, os.environ, artifact=path)
    except SafetradeError as exc:
        keys = ()
        trust_error: str | None = str(exc)
    else:
        trust_error = None
    try:
        size = path.stat().st_size
        if size > MAX_ARTIFACT_BYTES:
            return _refused_whole(
                name, f"the artifact is {size:,} bytes, above the {MAX_ARTIFACT_BYTES:,} limit"
            )
        data: bytes | None = path.read_bytes()
    except FileNotFoundError:
        data = None
    except OSError as exc:
        data = f"unreadable: {exc}".encode()
    if running is None:
        if bot_package is None:
            bot_package = _named_bot(data)
        try:
            running = measure_running_code(bot_package)
        except SafetradeError as exc:
            failed = [
                Check(n, False, str(exc)) if n == "safetrade code" else _unjudged(n, "not checked")
                for n in CHECK_NAMES
            ]
            return Verdict(name, tuple(failed), None, None)
    if modules is not None and running.loaded_modules is None:
        running = attrs.evolve(running, loaded_modules=_loaded_modules(running, modules))
    try:
        verdict = evaluate(data, trusted_keys=keys, running=running, now=moment, artifact_name=name)
    except (Exception, RecursionError) as exc:  # noqa: BLE001 -- a verdict, never a crash
        return _refused_whole(name, f"the artifact cannot be evaluated ({type(exc).__name__})")
    if trust_error is not None:
        annotated = tuple(
            attrs.evolve(c, detail=f"{trust_error} ({c.detail})") if c.name == "signature" else c
            for c in verdict.checks
        )
        verdict = attrs.evolve(verdict, checks=annotated)
    return verdict


def loaded_module_problems(bot_package: str) -> tuple[str, ...]:
    """What live start-up's loaded-modules check would refuse in this process, now.

    ``safetrade conformance`` asks before any scenario: a bot importing code outside its
    package (a second top-level package, a loose module beside it) would be refused at every
    live start, so it is told once, in seconds, instead of fifteen times.
    """
    return check_loaded_modules(bot_package, harness=_HARNESS).problems


def _loaded_modules(running: RunningCode, modules: Mapping[str, object]) -> LoadedModules:
    try:
        return check_loaded_modules(
            running.bot_package,
            modules=modules,
            bot_distributions=running.bot_distributions,
            harness=_HARNESS,
            dependencies=tuple(running.distributions),
        )
    except (Exception, RecursionError) as exc:  # noqa: BLE001 -- a verdict, never a crash
        return LoadedModules(
            (f"the loaded modules cannot be judged ({type(exc).__name__}: {exc})",), 0
        )


def _refused_whole(name: str, reason: str) -> Verdict:
    """Every check failed for one reason found before the artifact could be judged."""
    checks = [Check("artifact", False, reason)]
    checks += [_unjudged(n, "not checked: artifact refused") for n in CHECK_NAMES[1:]]
    return Verdict(name, tuple(checks), None, None)


def _named_bot(data: bytes | None) -> str:
    """The bot package an artifact's (possibly unauthenticated) statement names, best effort."""
    try:
        statement = json.loads(parse_envelope(data or b"").payload)
        subject = _bot_subject(statement) if isinstance(statement, Mapping) else None
    except (EnvelopeFormatError, ValueError, TypeError, RecursionError):
        subject = None
    if subject is None:
        return "unknown (the artifact names no bot)"
    return str(subject.get("name", ""))[len(BOT_SUBJECT_PREFIX) :]


def check_certification(
    artifact_path: Path | str,
    trusted_keys: Path | str | Sequence[PublicKey] | None,
    bot_package: str | None = None,
    now: datetime | None = None,
) -> Verdict:
    """Verdict for ``safetrade preflight``: same checks as :func:`require_valid`, no raise."""
    return verify_artifact(
        artifact_path, trusted_keys=trusted_keys, bot_package=bot_package, now=now
    )


def require_valid(
    artifact_path: Path | str,
    *,
    trusted_keys: Path | str | Sequence[PublicKey] | None,
    bot_package: str,
    now: datetime | None = None,
    allow_developer_key: bool = False,
) -> CertifiedRun:
    """Refuse to continue unless a valid certification covers exactly the code about to run.

    Call this before any exchange connection in live mode.

    Args:
        artifact_path: Path of the DSSE envelope written by ``safetrade certify``.
        trusted_keys: Trusted public keys, a trusted-keys file, or None for
            ``$SAFETRADE_TRUSTED_KEYS``.
        bot_package: Importable name of the bot about to run (your bot's top-level package,
            e.g. ``"mybot"``). There is no default: a certificate of another bot never
            covers yours.
        now: Current time; defaults to the system clock.
        allow_developer_key: Accept an artifact signed with the auto-created developer key
            (``settings.live_with_developer_key``); refused by default, since nobody reviewed
            that key.

    Returns:
        What was certified, for one log line (:meth:`CertifiedRun.summary`).

    Raises:
        CertificationError: Any check failed; ``problems`` names each, ``fix`` says how.
    """
    verdict = verify_artifact(
        artifact_path,
        trusted_keys=trusted_keys,
        bot_package=bot_package,
        now=now,
        modules=sys.modules,
    )
    if not verdict.ok or verdict.signer is None or verdict.statement is None:
        _log.critical("live mode refused:\n%s", verdict.table())
        raise CertificationError(verdict.problems, fix=verdict.fix)
    parts = PredicateParts(verdict.statement["predicate"])
    try:
        # every check passed: these parts were validated by the statement type and
        # freshness checks; a failure here is still a refusal, never a crash
        developer = verdict.developer_key
        validity = parts.validity()
        source = parts.source()
    except PredicateError as exc:
        _log.critical("live mode refused: %s", exc.what)
        raise CertificationError(
            [f"statement type: {exc.what}"], fix=_FIXES["statement type"]
        ) from exc
    if developer and not allow_developer_key:
        problems = (
            "signature: signed with a local developer key (auto-created by certify, reviewed by "
            "nobody), which live mode refuses",
        )
        _log.critical("live mode refused: %s", problems[0])
        raise CertificationError(
            problems,
            fix="sign with a key from `safetrade keygen` (SAFETRADE_CERT_KEY_FILE) that the "
            "owner trusts, or set SAFETRADE_LIVE_WITH_DEVELOPER_KEY="
            f"{DEVELOPER_KEY_CONSENT} in .env to accept the risk (a bot calling require_valid "
            "itself passes allow_developer_key=settings.live_with_developer_key: "
            "require_valid never reads the environment)",
        )
    subject = _subject(verdict.statement, SAFETRADE_SUBJECT) or {}
    run = CertifiedRun(
        artifact=verdict.artifact,
        signer=verdict.signer,
        developer_key=developer,
        issued_at=validity.issued_at,
        expires_at=validity.expires_at,
        git_commit=source.git_commit,
        safetrade_digest=str(subject.get("digest", {}).get("dirHash", "")),
        bot_package=bot_package,
        notes=verdict.notes,
        issued=_ISSUED_BY_GATE,
    )
    _log.info(run.summary())
    for note in verdict.notes:
        _log.warning("certification: %s", note)
    return run
