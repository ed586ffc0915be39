"""Turn a finished certification run (evidence, coverage, features) into reports and an artifact.

This is the file-handling edge around the pure pieces: it first verifies the seals of the run's
outputs (:mod:`safetrade.certification.seal`: ``conformance.json`` sealed by the conformance
run, ``evidence.json``, ``coverage.json`` and ``cucumber.json`` by the suite, each with this
signing key) and refuses with :class:`~safetrade.certification.seal.SealError` if one is missing,
foreign or does not match; then it reads the run's outputs, measures the installed code,
renders both reports from the same statement, binds their digests (and the seals') into the
signed statement, and writes the DSSE artifact only when the policy is met. A failed run leaves
reports marked NOT CERTIFIED and *removes* any older artifact in the output folder, so a stale
certificate can never be mistaken for this run's result.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from safetrade.certification.conformance.result import ConformanceError, ConformanceResult
from safetrade.certification.digest import diff_trees, sha256_hex, tree_digest
from safetrade.certification.dsse import sign_envelope
from safetrade.certification.evidence import Evidence, EvidenceError, load_evidence
from safetrade.certification.inventory import parse_inventory
from safetrade.certification.keys import SIGNER_HEADER
from safetrade.certification.policy import below_floor, load_policy
from safetrade.certification.predicate import PaperRecord
from safetrade.certification.provenance import (
    RunningCode,
    git_state,
    measure_running_code,
    versions,
)
from safetrade.certification.report import SUITE_NOT_RUN, render_html, render_markdown
from safetrade.certification.seal import (
    CONFORMANCE_SEAL,
    CONFORMANCE_STEP,
    SUITE_SEAL,
    SUITE_STEP,
    Seal,
    SealError,
    check_files,
    read_seal,
)
from safetrade.certification.statement import (
    CoverageError,
    assess,
    build_statement,
    parse_coverage,
    parse_time,
    statement_bytes,
)
from safetrade.certification.suite import reconcile
from safetrade.errors import ConfigError
from safetrade.paper.status import read_summary

if TYPE_CHECKING:
    from safetrade.certification.keys import SigningKey
    from safetrade.certification.policy import Policy
    from safetrade.certification.statement import Coverage
    from safetrade.paper.summary import PaperSummary

__all__ = ["ARTIFACT_NAME", "SIGNER_PUB_NAME", "CertifyInputs", "CertifyOutcome", "certify"]

ARTIFACT_NAME = "safetrade.cert.json"
SIGNER_PUB_NAME = "signer.pub"


@attrs.frozen
class CertifyInputs:
    """Where the run's outputs are and what is being certified."""

    project_root: Path
    out_dir: Path
    policy: Path
    evidence: Path
    coverage: Path
    cucumber: Path | None
    conformance: Path
    # the paper account whose journal the policy's [paper] section is checked against
    paper_journal: Path | None = None

    @property
    def conformance_seal(self) -> Path:
        """The conformance run's seal, next to ``conformance``."""
        return self.conformance.parent / CONFORMANCE_SEAL

    @property
    def suite_seal(self) -> Path:
        """The suite's seal of evidence, coverage and cucumber, next to ``evidence``."""
        return self.evidence.parent / SUITE_SEAL

    @classmethod
    def in_folder(
        cls, project_root: Path, out_dir: Path, policy: Path, *, cucumber: bool = True
    ) -> CertifyInputs:
        """The run's outputs where ``tox -e certify`` writes them: all in ``out_dir``."""
        return cls(
            project_root=project_root,
            out_dir=out_dir,
            policy=policy,
            evidence=out_dir / "evidence.json",
            coverage=out_dir / "coverage.json",
            cucumber=out_dir / "cucumber.json" if cucumber else None,
            conformance=out_dir / "conformance.json",
        )


@attrs.frozen
class CertifyOutcome:
    """What ``certify`` produced."""

    certified: bool
    problems: tuple[str, ...]
    statement: dict[str, Any]
    artifact: Path | None
    envelope_sha256: str | None
    reports: tuple[Path, ...]


_NO_EVIDENCE = Evidence(
    items=(), exitstatus=-1, hypothesis_profile=None, deselected=0, collection_errors=(), args=()
)


def certify(
    inputs: CertifyInputs,
    *,
    signing_key: SigningKey,
    now: datetime,
    running: RunningCode | None = None,
) -> CertifyOutcome:
    """Assess the run against the policy, write reports, and sign an artifact if it passed.

    Args:
        inputs: Paths of the run's outputs.
        signing_key: The key that signs a passing artifact.
        now: Issue time of the certification.
        running: Pre-measured code (tests); defaults to measuring the installed packages.

    Raises:
        SealError: An input is not sealed by the step that produced it with ``signing_key``, or
            changed after it was sealed (nothing is read, any older artifact is removed).
        ConfigError: The policy file is missing or invalid.
    """
    try:
        conformance_seal, suite_seal = _verify_seals(inputs, signing_key)
        valid_from = _evidence_started(conformance_seal, suite_seal, now)
        sealed_conformance = _read_conformance(inputs.conformance)
        if sealed_conformance[0] is not None:
            _sealed_bot(conformance_seal, sealed_conformance[0])
    except SealError:
        # a refused run must not leave an older run's artifact or reports looking current
        for stale in (ARTIFACT_NAME, "report.md", "report.html"):
            (inputs.out_dir / stale).unlink(missing_ok=True)
        raise
    policy = load_policy(inputs.policy)
    early: list[str] = []
    try:
        evidence = load_evidence(inputs.evidence)
    except EvidenceError as exc:
        evidence = _NO_EVIDENCE
        early.append(f"evidence: {exc}")
    try:
        inventory = parse_inventory(inputs.project_root, policy.features_dir)
    except EvidenceError as exc:
        inventory = ()
        early.append(f"inventory: {exc}")
    coverage: Coverage | None = None
    if inputs.coverage.is_file():
        try:
            coverage = parse_coverage(inputs.coverage.read_bytes())
        except CoverageError as exc:
            early.append(str(exc))
    suite = reconcile(inventory, evidence)
    conformance, bot_problems = sealed_conformance
    bot_package = conformance.bot.package if conformance else "unknown (no conformance run)"
    measured = running if running is not None else measure_running_code(bot_package)
    if conformance is not None:
        bot_problems += _bound_to_run(conformance, measured)
        bot_problems += _ran_on_what_is_signed(conformance_seal, measured)
    if evidence is not _NO_EVIDENCE:
        early.extend(_tested_what_is_signed(evidence, measured))
    git = git_state(inputs.project_root)
    paper, paper_problems = _read_paper(policy, inputs.paper_journal, measured, now)
    problems = (
        # a policy file can ask for more than the library, never for less
        *(f"policy below the library floor: {why}" for why in below_floor(policy.to_json())),
        *_still_valid(valid_from, policy.validity_days, now),
        *early,
        *bot_problems,
        *paper_problems,
        *assess(
            policy=policy,
            suite=suite,
            evidence=evidence,
            coverage=coverage,
            git=git,
            running=measured,
        ),
    )
    not_run = suite_seal.run.get("notRun")
    if bot_problems and isinstance(not_run, str):
        # the suite was skipped because the bot failed: one line instead of a missing
        # evidence file and every scenario "not executed" burying the bot's failures
        problems = (*_without_suite_problems(problems), f"{SUITE_NOT_RUN}{not_run}")
    common: dict[str, Any] = {
        "suite": suite,
        "policy": policy,
        "evidence": evidence,
        "coverage": coverage,
        "running": measured,
        "git": git,
        "versions": versions(),
        "signer": signing_key.public,
        "developer_key": signing_key.developer,
        "problems": problems,
        "now": now,
        "valid_from": valid_from,
        "conformance": None if conformance is None else conformance.to_json(),
        "paper": paper,
    }
    # The reports are rendered from the statement without report digests (a file cannot
    # contain its own digest); the signed statement then binds the reports by digest.
    draft = build_statement(**common)
    out = inputs.out_dir
    out.mkdir(parents=True, exist_ok=True)
    report_md = out / "report.md"
    report_html = out / "report.html"
    report_md.write_text(render_markdown(draft), encoding="utf-8")
    report_html.write_text(render_html(draft), encoding="utf-8")
    bound = {"report.md": report_md, "report.html": report_html, "evidence.json": inputs.evidence}
    bound["coverage.json"] = inputs.coverage
    bound["conformance.json"] = inputs.conformance
    # the seals name when and by what each input was produced: bound too
    bound[CONFORMANCE_SEAL] = inputs.conformance_seal
    bound[SUITE_SEAL] = inputs.suite_seal
    if inputs.cucumber is not None:
        bound["cucumber.json"] = inputs.cucumber
    digests = {
        name: sha256_hex(path.read_bytes()) for name, path in bound.items() if path.is_file()
    }
    statement = build_statement(**common, reports=digests)
    artifact = out / ARTIFACT_NAME
    if problems:
        artifact.unlink(missing_ok=True)
        return CertifyOutcome(False, problems, statement, None, None, (report_md, report_html))
    envelope = sign_envelope(statement_bytes(statement), signing_key.private).to_json()
    artifact.write_bytes(envelope)
    public = signing_key.public
    (out / SIGNER_PUB_NAME).write_text(
        f"{SIGNER_HEADER}{public.fingerprint}\n# keyid {public.keyid}\n"
        "# Trust this key only after checking the keyid with its owner.\n"
        f"{public.hex}\n",
        encoding="utf-8",
    )
    return CertifyOutcome(
        True, (), statement, artifact, sha256_hex(envelope), (report_md, report_html)
    )


def _verify_seals(inputs: CertifyInputs, signing_key: SigningKey) -> tuple[Seal, Seal]:
    """Both seals verify under ``signing_key`` and name exactly the files certify reads.

    Returns the conformance seal (its bot is compared with the record once that is read) and
    the suite's.
    """
    if not inputs.conformance.exists() and not inputs.conformance_seal.exists():
        raise SealError(
            f"no conformance run at {inputs.conformance} (nor its seal {CONFORMANCE_SEAL})",
            why="the bot would only be hashed, never exercised",
            fix="run `safetrade conformance` (tox -e certify does) before `safetrade certify`",
        )
    public = signing_key.public
    conformance = read_seal(
        inputs.conformance_seal, step=CONFORMANCE_STEP, signer=public, sealed="conformance.json"
    )
    check_files(conformance, {"conformance.json": inputs.conformance})
    suite = read_seal(
        inputs.suite_seal, step=SUITE_STEP, signer=public, sealed="the suite's evidence.json"
    )
    read = {"evidence.json": inputs.evidence, "coverage.json": inputs.coverage}
    if inputs.cucumber is not None:
        read["cucumber.json"] = inputs.cucumber
    check_files(suite, read)
    return conformance, suite


def _seal_time(text: object) -> datetime | None:
    """A time a seal records (``statement.parse_time``'s format); None when it is not one."""
    try:
        return parse_time(text)
    except ValueError:
        return None


def _evidence_started(conformance: Seal, suite: Seal, now: datetime) -> datetime:
    """When the oldest run this certificate rests on started: its validity starts there.

    Certify signs outputs that other steps sealed; run again weeks later it would otherwise
    re-sign the same old runs with a fresh validity window, renewing a certificate nothing
    re-tested. Anchoring the window at the evidence (rather than refusing seals older than
    some bound) cannot be stretched by any number of re-runs: the artifact's expiry is never
    later than the oldest run's start plus the policy's validity. The runs are the bot's
    conformance run and the suite's: for a suite reused from the cache, the original run's
    time (``reused.ranAt``), else its seal's start. Never later than ``now``: a seal from the
    future (another machine's clock) does not move the window past what it would be anyway.

    Raises:
        SealError: A seal's start is unreadable (the seals verified, so a seal format this
            certify does not know).
    """
    starts = []
    for seal in (conformance, suite):
        started = _seal_time(seal.started_at)
        if started is None:
            raise SealError(
                f"the {seal.step} seal's start {seal.started_at!r} is not a time",
                why="the certificate's validity starts when the runs it rests on started",
                fix="re-run `tox -e certify`",
            )
        starts.append(started)
    reused = suite.run.get("reused")
    if isinstance(reused, dict):
        ran = _seal_time(reused.get("ranAt"))
        if ran is not None:
            starts.append(ran)
    return min(*starts, now)


def _still_valid(valid_from: datetime, validity_days: int, now: datetime) -> list[str]:
    """A certificate of runs so old that its validity window is over already is refused."""
    ends = valid_from + timedelta(days=validity_days)
    if ends > now:
        return []
    return [
        f"freshness: the runs this certificate would rest on started at "
        f"{valid_from:%Y-%m-%dT%H:%M:%SZ}, so its {validity_days}-day validity ended at "
        f"{ends:%Y-%m-%dT%H:%M:%SZ}: signing them again renews nothing; re-run `tox -e certify` "
        "(with SAFETRADE_SUITE_CACHE=off if it reuses an old suite run)"
    ]


def _ran_on_what_is_signed(seal: Seal, measured: RunningCode) -> list[str]:
    """The ccxt code and the distributions signed are the ones the bot's conformance ran on.

    A conformance seal without this record comes from a safetrade that did not write it, and
    then ``_bound_to_run`` already refuses: the safetrade signed is not the one that ran.
    """
    environment = seal.run.get("environment")
    if environment is None:
        return []
    if not isinstance(environment, dict):
        return ["bot conformance: its seal's environment record is malformed: re-run "
                "`tox -e certify`"]  # fmt: skip
    problems = []
    if environment.get("ccxtDirHash") != tree_digest(measured.ccxt_files):
        problems.append(
            "ccxt changed after the bot's conformance run (tree "
            f"{str(environment.get('ccxtDirHash'))[:16]}… then, "
            f"{tree_digest(measured.ccxt_files)[:16]}… now): re-run `tox -e certify`"
        )
    ran = environment.get("distributions")
    ran = {str(k): str(v) for k, v in ran.items()} if isinstance(ran, dict) else {}
    now = dict(measured.distributions)
    changed = [
        f"{name} {ran[name]} when the bot's conformance ran, {now[name]} now"
        for name in sorted(ran.keys() & now.keys())
        if ran[name] != now[name]
    ]
    changed += [
        f"{name} not installed when the bot's conformance ran, {now[name]} now"
        for name in sorted(now.keys() - ran.keys())
    ]
    changed += [
        f"{name} {ran[name]} when the bot's conformance ran, not installed now"
        for name in sorted(ran.keys() - now.keys())
    ]
    if changed:
        problems.append(
            f"distributions changed after the bot's conformance run: {'; '.join(changed)}: "
            "re-run `tox -e certify`"
        )
    return problems


_SUITE_PROBLEMS = ("evidence:", "scenario ", "pytest exited", "coverage.json missing")


def _without_suite_problems(problems: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(p for p in problems if not p.startswith(_SUITE_PROBLEMS))


def _sealed_bot(seal: Seal, conformance: ConformanceResult) -> None:
    """The bot the record names is the bot the sealing conformance run exercised."""
    bot = seal.run.get("bot")
    sealed = (bot.get("package"), bot.get("dirHash")) if isinstance(bot, dict) else None
    recorded = (conformance.bot.package, conformance.bot.dir_hash)
    if sealed != recorded:
        raise SealError(
            f"conformance.json names bot {recorded[0]!r} (tree {recorded[1][:16]}) but its seal "
            f"names {sealed}",
            why="the record is not the run of the bot that `safetrade conformance` exercised",
            fix="re-run `tox -e certify`",
        )


def _read_paper(
    policy: Policy, journal: Path | None, measured: RunningCode, now: datetime
) -> tuple[dict[str, Any], list[str]]:
    """The paper record of exactly the code being signed, and what the policy finds missing."""
    summary: PaperSummary | None = None
    problems: list[str] = []
    if journal is not None:
        digests = (tree_digest(measured.safetrade_files), tree_digest(measured.bot_files))
        try:
            summary = read_summary(journal, digests=digests, now_ms=int(now.timestamp() * 1000))
        except ConfigError as exc:
            problems.append(f"paper: {exc.what}")
    problems += policy.paper.problems(summary)
    record = PaperRecord(
        requirement=policy.paper.to_json(),
        journal=None if journal is None else str(journal),
        summary=None if summary is None else summary.to_json(),
    )
    return record.to_json(), problems


def _read_conformance(path: Path) -> tuple[ConformanceResult | None, list[str]]:
    """The bot's conformance run and its failures (each a problem of this certification)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [
            f"bot conformance: no conformance run at {path} ({type(exc).__name__}): the bot "
            "would only be hashed, never exercised; run `safetrade conformance` (tox -e certify "
            "does) before `safetrade certify`"
        ]
    try:
        result = ConformanceResult.loads(raw)
    except ConformanceError as exc:
        return None, [f"bot conformance: {exc}"]
    return result, [f"bot conformance: {line}" for line in result.failures()]


def _bound_to_run(conformance: ConformanceResult, measured: RunningCode) -> list[str]:
    """The code signed must be the code the conformance run exercised."""
    problems: list[str] = []
    if measured.bot_package != conformance.bot.package:
        problems.append(
            f"the code signed is bot package {measured.bot_package!r}, but the conformance run "
            f"exercised {conformance.bot.package!r}: re-run `tox -e certify`"
        )
    if measured.bot_error:
        return problems  # assess() names it
    if tree_digest(measured.bot_files) != conformance.bot.dir_hash:
        diff = diff_trees(conformance.bot.files, measured.bot_files)
        problems.append(
            f"bot package {conformance.bot.package!r} changed after its conformance run "
            f"({diff.describe()}): re-run `tox -e certify`"
        )
    if tree_digest(measured.safetrade_files) != conformance.safetrade_dir_hash:
        problems.append(
            "safetrade changed after the bot's conformance run: re-run `tox -e certify`"
        )
    return problems


def _tested_what_is_signed(evidence: Evidence, measured: RunningCode) -> list[str]:
    """The suite's evidence is about the code signed: measured by the test process itself."""
    if evidence.tested_files is None:
        return [
            "evidence: it does not record the code it tested (testedFiles); re-run "
            "`tox -e certify` with this safetrade"
        ]
    problems = []
    signed = measured.safetrade_files
    if evidence.tested_files != signed:
        diff = diff_trees(evidence.tested_files, signed)
        problems.append(
            f"safetrade changed after its tests ran ({diff.describe()}): the tests did not run "
            "on the code being signed; re-run `tox -e certify`"
        )
    end = evidence.tested_files_at_end
    if end is not None and end != evidence.tested_files:
        diff = diff_trees(evidence.tested_files, end)
        problems.append(f"safetrade changed while its tests ran ({diff.describe()})")
    return problems
