"""Markdown and self-contained HTML reports rendered from the same statement.

Both renderers read only the in-toto Statement (the data that is signed), so the two reports
cannot disagree with each other or with the artifact. The HTML has inline CSS and no scripts
or external resources, so it renders offline and can be archived as a single file.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from safetrade.certification.policy import deviations
from safetrade.certification.predicate import ConformanceRecord, PaperRecord, Predicate
from safetrade.certification.statement import format_time

if TYPE_CHECKING:
    from safetrade.certification.suite import ScenarioResult

__all__ = ["render_html", "render_markdown", "verify_command"]

_OUT_OF_SCOPE = (
    "Real venue conformance (RTS 6 art. 6): the suite runs against a simulated KuCoin only.",
    "Market-abuse surveillance (RTS 6 art. 13) and business continuity (art. 14).",
    "Stress at 2x historical peaks (RTS 6 art. 10) unless a scenario says so.",
    "An attacker with write access to the host: the live gate catches accidents, not tampering "
    "with the installed verifier.",
)


def verify_command(artifact: str = "certification/out/safetrade.cert.json") -> str:
    """The command a reviewer runs to verify the artifact (with keys they chose to trust)."""
    return f"safetrade verify {artifact} --trusted-keys ~/.safetrade/trusted-keys"


def trust_command() -> str:
    """How a reviewer trusts the signer, after checking its keyid with the signer."""
    return (
        "safetrade trust add certification/out/signer.pub --label 'WHO SIGNED' "
        "--trusted-keys ~/.safetrade/trusted-keys"
    )


def _subject_rows(statement: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for subject in statement.get("subject", []):
        for algorithm, value in subject.get("digest", {}).items():
            rows.append((str(subject.get("name")), f"{algorithm}:{value}"))
    return rows


#: How certify names a suite that did not run (the bot failed first): the report reads it back.
SUITE_NOT_RUN = "suite: not run: "


def _header_facts(p: Predicate) -> list[tuple[str, str]]:
    signer, source, versions = p.signer, p.source, p.versions
    dirty = " (dirty work tree)" if source.dirty else ""
    key_label = "local developer key" if signer.developer_key else "configured signing key"
    # a NOT CERTIFIED run writes no artifact: nothing was issued, nothing expires
    validity = (
        ("Issued / expires", f"{format_time(p.issued_at)} → {format_time(p.expires_at)}")
        if p.passed
        else ("Artifact", "none written (NOT CERTIFIED): nothing was issued")
    )
    signed = "" if p.passed else "; nothing was signed (NOT CERTIFIED)"
    return [
        ("Signer", f"{signer.fingerprint} ({key_label}); keyid {signer.keyid}{signed}"),
        validity,
        ("Git commit", f"{source.git_commit or 'unknown (no git)'}{dirty}"),
        (
            "Versions",
            ", ".join(f"{k} {v}" for k, v in versions.items() if k != "implementation")
            + f" ({versions.get('implementation')})",
        ),
        ("Hypothesis profile", p.suite.hypothesis_profile or "none (no suite evidence)"),
        ("Library suite", _suite_run(p.suite.reused, p.problems)),
        (
            # the library's own BDD scenarios (features/), not the bot's conformance scenarios
            "Library BDD scenarios (features/)",
            ", ".join(f"{k} {v}" for k, v in p.suite.counts.to_json().items()),
        ),
    ]


def _suite_run(reused: Mapping[str, Any] | None, problems: Sequence[str]) -> str:
    """Whether safetrade's own suite ran here, was reused (from where), or did not run at all.

    Not running is certify's ``suite: not run: WHY`` problem (the bot failed its conformance).
    """
    not_run = next((x for x in problems if x.startswith(SUITE_NOT_RUN)), None)
    if not_run is not None:
        return f"NOT RUN: {not_run.removeprefix(SUITE_NOT_RUN)}"
    if reused is None:
        return "ran in this certification"
    run = reused.get("run") or {}
    commit = run.get("gitCommit") or "no git"
    dirty = " (dirty)" if run.get("dirty") else ""
    return (
        f"REUSED: not run again; the signed passing run of {reused.get('ranAt')} in "
        f"{run.get('projectRoot')} (commit {str(commit)[:12]}{dirty}) with identical inputs, "
        f"cache key {str(reused.get('cacheKey'))[:16]}…, "
        f"entry signed by {str(reused.get('signer'))[:16]}…"
    )


def _bot_line(conformance: ConformanceRecord | None) -> str:
    """Which bot this certifies, said plainly (the reference bot unless one was named)."""
    if conformance is None:
        return "no bot was exercised: NOT a certification of any bot"
    bot = conformance.bot
    name = bot.distribution or bot.package
    version = f" {bot.version}" if bot.version else ""
    digest = bot.dir_hash[:16]
    coverage = conformance.bot_coverage
    covered = "n/a" if coverage is None else f"{coverage:.1f}%"
    who = (
        "safetrade's reference bot (no --bot was named; this does NOT certify your bot)"
        if bot.is_reference
        else f"{name}{version}"
    )
    return (
        f"{who}; package {bot.package}, factory {bot.factory}, tree {digest}…, "
        f"coverage of its package in the conformance run {covered}"
    )


def _scenarios_by_feature(p: Predicate) -> dict[str, list[ScenarioResult]]:
    grouped: dict[str, list[ScenarioResult]] = {}
    for scenario in p.suite.scenarios:
        grouped.setdefault(f"{scenario.feature} ({scenario.feature_path})", []).append(scenario)
    return grouped


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _conformance_markdown(conformance: ConformanceRecord | None) -> list[str]:
    out = ["## The bot under certification", "", f"**Bot:** {_md(_bot_line(conformance))}", ""]
    if conformance is None:
        return out
    out += [
        f"Conformance: **{conformance.result}**. Each row is judged only by what the "
        "fake KuCoin received and answered, never by the bot's own objects.",
        "",
        "| Result | Control | Incident line | Scenario | What the exchange saw |",
        "|---|---|---|---|---|",
    ]
    for scenario in conformance.scenarios:
        for f in scenario.findings:
            out.append(
                _md_row(
                    "**PASS**" if f.passed else "**FAIL**",
                    f.control,
                    f.incident_line,
                    f"{scenario.id}: {f.title}",
                    f.detail,
                )
            )
    out.append("")
    for scenario in conformance.scenarios:
        status = "passed" if scenario.passed else "FAILED"
        out += [f"<details><summary>{_md(scenario.id)}: {status}</summary>", "", "```"]
        out += list(scenario.story)
        out += ["", "orders the exchange received:"]
        out += [f"  {s}" for s in scenario.sent] or ["  none"]
        out += ["stop orders left live:"]
        out += [f"  {s}" for s in scenario.left_live] or ["  none"]
        out += [f"bot raised: {s}" for s in scenario.bot_errors]
        out += ["```", "", "</details>", ""]
    return out


def _paper_facts(record: PaperRecord | None) -> list[str]:
    if record is None:
        return ["This artifact predates paper evidence."]
    facts = [record.line()]
    summary = record.summary
    if summary is not None:
        codes = dict(summary.get("rejections") or {})
        facts += [
            f"orders {summary.get('orders')}, fills {summary.get('fills')}, realised P&L "
            f"{summary.get('pnl')} (fees included)",
            "rejections by KuCoin code: "
            + (", ".join(f"{c}: {n}" for c, n in sorted(codes.items())) or "none"),
            f"journal: {summary.get('journalProblem') or 'hash chain intact'}",
        ]
    return facts


def _paper_markdown(record: PaperRecord | None) -> list[str]:
    return ["## Paper trading of this code", "", *(f"- {_md(f)}" for f in _paper_facts(record)), ""]


def _paper_html(record: PaperRecord | None) -> list[str]:
    items = "".join(f"<li>{_e(f)}</li>" for f in _paper_facts(record))
    return [f"<h2>Paper trading of this code</h2><ul>{items}</ul>"]


def _conformance_html(conformance: ConformanceRecord | None) -> list[str]:
    parts = [
        "<h2>The bot under certification</h2>",
        f"<p><strong>Bot:</strong> {_e(_bot_line(conformance))}</p>",
    ]
    if conformance is None:
        return parts
    parts.append(
        f"<p>Conformance: {_badge('PASS' if conformance.result == 'PASSED' else 'FAIL')}"
        " judged only by what the fake KuCoin received and answered.</p>"
    )
    parts.append("<table><thead>")
    parts.append(
        _html_row(
            "Result", "Control", "Incident line", "Scenario", "What the exchange saw", cell="th"
        )
    )
    parts.append("</thead><tbody>")
    for scenario in conformance.scenarios:
        sent = "\n".join(
            [*scenario.sent, "left live:", *scenario.left_live]
            + [f"bot raised: {s}" for s in scenario.bot_errors]
        )
        parts.extend(
            _html_row(
                _badge("PASS" if f.passed else "FAIL"),
                f"<code>{_e(f.control)}</code>",
                _e(f.incident_line),
                f"<code>{_e(scenario.id)}</code><br>{_e(f.title)}",
                _e(f.detail) + f"<details><summary>orders</summary><pre>{_e(sent)}</pre></details>",
            )
            for f in scenario.findings
        )
    parts.append("</tbody></table>")
    return parts


def render_markdown(statement: Mapping[str, Any]) -> str:
    """Render the review report as GitHub-flavoured Markdown."""
    p = Predicate.from_json(statement["predicate"])
    certified = p.passed
    out = [
        "# safetrade certification report",
        "",
        f"## Verdict: {'CERTIFIED' if certified else 'NOT CERTIFIED'}",
        "",
        # a NOT CERTIFIED report certifies nothing: it names the bot it judged
        f"**{'Certifies' if certified else 'Judged (not certified)'}:** "
        f"{_md(_bot_line(p.conformance))}",
        "",
    ]
    if p.signer.developer_key and certified:
        out += ["> **Signed with a local developer key.** Do not trust it for production.", ""]
    out += [f"- **{k}:** {_md(v)}" for k, v in _header_facts(p)]
    out.append("")
    if p.problems:
        out += ["## Problems", ""] + [f"- {_md(x)}" for x in p.problems] + [""]
    out += _conformance_markdown(p.conformance)
    out += _paper_markdown(p.paper)
    out += [
        "## Library controls matrix (safetrade's own suite)",
        "",
        _md_row(
            "Control", "Kind", "What it does", "Regulatory anchor", "Required", "Passed", "Status"
        ),
        "|---|---|---|---|---|---|---|",
    ]
    out += [
        f"| {_md(r.control)} | {r.kind} | {_md(r.description)} | "
        f"{_md('; '.join(r.anchors))} | {'yes' if r.required else 'no'} | "
        f"{r.passed}/{r.total} | **{r.status}** |"
        for r in p.controls
    ]
    out += ["", "## Library scenarios (safetrade's own parts)", ""]
    for feature, scenarios in _scenarios_by_feature(p).items():
        out += [
            f"### {_md(feature)}",
            "",
            "| Outcome | Scenario | Incident it replays | Controls | Time |",
        ]
        out.append("|---|---|---|---|---|")
        for s in scenarios:
            out.append(
                _md_row(
                    f"**{s.outcome.upper()}**",
                    s.name,
                    s.incident_line or "-",
                    ", ".join(s.controls) or "-",
                    f"{s.duration:.3f}s",
                )
            )
        failures = [s for s in scenarios if s.outcome != "passed" and s.message]
        for s in failures:
            out += ["", f"<details><summary>{_md(s.name)}: {s.outcome}</summary>", "", "```"]
            out += [s.message[:2000], "```", "", "</details>"]
        out.append("")
    out += [
        "## Other tests (property and unit)",
        "",
        ", ".join(f"{k} {v}" for k, v in p.suite.tests.to_json().items()),
    ]
    out += [f"- {t.outcome}: `{t.nodeid}`" for t in p.suite.failing_tests]
    out.append("")
    coverage = p.coverage
    out += ["## Coverage", ""]
    if coverage is None:
        out += ["No coverage data.", ""]
    else:
        out += [
            f"Total: **{coverage.total:.1f}%**",
            "",
            "| Module | Covered | Floor |",
            "|---|---|---|",
        ]
        for module, percent in coverage.modules.items():
            floor = coverage.floor_of(module)
            flag = " ⚠" if floor is not None and percent < floor else ""
            out.append(
                f"| {module} | {percent:.1f}%{flag} | {'-' if floor is None else f'{floor:g}%'} |"
            )
        out.append("")
    weaker = deviations(p.policy.to_json(), None if p.paper is None else p.paper.requirement)
    out += ["## Policy", ""]
    out += (
        [f"- ⚠ **below the library default:** {_md(w)}" for w in weaker]
        if weaker
        else ["The policy is the library's default (certification/policy.toml)."]
    )
    out += ["", "## Digests", "", "| Subject | Digest |", "|---|---|"]
    out += [f"| {n} | `{d}` |" for n, d in _subject_rows(statement)]
    out.append(f"| policy | `sha256:{p.policy.digest}` |")
    out += [
        "",
        "## How to verify",
        "",
        "```",
        trust_command() + "   # once, after checking the keyid above with the signer",
        verify_command(),
        "```",
        "",
        "The gate trusts only keys you list (`--trusted-keys` or `SAFETRADE_TRUSTED_KEYS`), "
        "never a key shipped with the artifact, and refuses a trusted-keys file kept in the "
        "artifact's own folder. `signer.pub` is a convenience copy every certify run rewrites: "
        "compare its keyid with the one above before trusting it. "
        "Report digests are bound inside the signed artifact.",
        "",
        "## Out of scope",
        "",
    ]
    out += [f"- {x}" for x in _OUT_OF_SCOPE]
    return "\n".join(out) + "\n"


_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;
margin:0;background:#f4f6f9}
main{max-width:1180px;margin:0 auto;padding:24px 32px 48px}
h1{font-size:22px;margin:0 0 12px}
h2{font-size:18px;margin:32px 0 10px;border-bottom:1px solid #d5dae3;padding-bottom:4px}
h3{font-size:15px;margin:20px 0 6px}
.verdict{border-radius:8px;padding:18px 22px;color:#fff;margin-bottom:14px}
.verdict.ok{background:#1f7a45}.verdict.bad{background:#b42318}
.verdict .big{font-size:28px;font-weight:700;letter-spacing:.5px}
.warn{background:#fff4ce;border:1px solid #e0b400;border-radius:6px;padding:10px 14px;margin:10px 0}
dl.facts{display:grid;grid-template-columns:190px 1fr;gap:4px 14px;background:#fff;
padding:14px 18px;border-radius:8px;border:1px solid #d5dae3;margin:0}
dl.facts dt{font-weight:600;color:#4a5468}dl.facts dd{margin:0;word-break:break-all}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d5dae3;font-size:14px}
th,td{padding:6px 9px;border-bottom:1px solid #e4e8ee;text-align:left;vertical-align:top}
th{background:#eaeef4;font-weight:600}
.badge{display:inline-block;min-width:64px;text-align:center;border-radius:4px;padding:1px 6px;
font-weight:700;font-size:12px;color:#fff;white-space:nowrap}
td:first-child code{white-space:nowrap}
.passed,.PASS{background:#1f7a45}.failed,.error,.FAIL,.not-executed{background:#b42318}
.skipped,.NOT-EVIDENCED{background:#8a6d00}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
pre{white-space:pre-wrap;background:#1d2330;color:#e8ecf3;padding:10px;border-radius:6px;
max-height:320px;overflow:auto}
.muted{color:#5d6679}ul.problems li{color:#8f1d14;margin:2px 0}
"""


def _md_row(*cells: object) -> str:
    return "| " + " | ".join(_md(c) for c in cells) + " |"


def _html_row(*cells: str, cell: str = "td") -> str:
    """Join already-escaped cell HTML into a table row."""
    return "<tr>" + "".join(f"<{cell}>{c}</{cell}>" for c in cells) + "</tr>"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _badge(status: str) -> str:
    return f'<span class="badge {_e(status.replace(" ", "-"))}">{_e(status.upper())}</span>'


def render_html(statement: Mapping[str, Any]) -> str:
    """Render the review report as one self-contained HTML page (inline CSS, no scripts)."""
    p = Predicate.from_json(statement["predicate"])
    certified = p.passed
    signer = p.signer
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>safetrade certification: {'CERTIFIED' if certified else 'NOT CERTIFIED'}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        "<h1>safetrade certification report</h1>",
        f'<div class="verdict {"ok" if certified else "bad"}"><div class="big">'
        f"{'CERTIFIED' if certified else 'NOT CERTIFIED'}</div>"
        f"<div>{_e(_bot_line(p.conformance))}</div>",
        (
            f"<div>Signer {_e(signer.fingerprint)} · expires {_e(format_time(p.expires_at))}</div>"
            if certified
            else "<div>Nothing was signed: no artifact written</div>"
        ),
        "</div>",
    ]
    if signer.developer_key and certified:
        parts.append(
            '<div class="warn"><strong>Signed with a local developer key.</strong> '
            "Do not trust it for production.</div>"
        )
    parts.append('<dl class="facts">')
    parts += [f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in _header_facts(p)]
    parts.append("</dl>")
    if p.problems:
        parts.append('<h2>Problems</h2><ul class="problems">')
        parts += [f"<li>{_e(x)}</li>" for x in p.problems]
        parts.append("</ul>")
    parts += _conformance_html(p.conformance)
    parts += _paper_html(p.paper)
    parts.append("<h2>Library controls matrix (safetrade's own suite)</h2><table><thead>")
    parts.append(
        _html_row(
            "Control",
            "Kind",
            "What it does",
            "Regulatory anchor",
            "Required",
            "Passed",
            "Status",
            cell="th",
        )
    )
    parts.append("</thead><tbody>")
    parts += [
        _html_row(
            f"<code>{_e(r.control)}</code>",
            _e(r.kind),
            _e(r.description),
            "<br>".join(_e(a) for a in r.anchors),
            "yes" if r.required else "no",
            f"{r.passed}/{r.total}",
            _badge(r.status),
        )
        for r in p.controls
    ]
    parts.append("</tbody></table><h2>Library scenarios (safetrade's own parts)</h2>")
    for feature, scenarios in _scenarios_by_feature(p).items():
        parts.append(
            f"<h3>{_e(feature)}</h3><table><thead><tr><th>Outcome</th><th>Scenario</th>"
            "<th>Incident it replays</th><th>Controls</th><th>Time</th></tr></thead><tbody>"
        )
        for s in scenarios:
            detail = ""
            if s.outcome != "passed" and s.message:
                detail = f"<pre>{_e(s.message[:2000])}</pre>"
            parts.append(
                _html_row(
                    _badge(s.outcome),
                    _e(s.name) + detail,
                    _e(s.incident_line or "—"),
                    _e(", ".join(s.controls) or "—"),
                    f"{s.duration:.3f}s",
                )
            )
        parts.append("</tbody></table>")
    parts.append(
        "<h2>Other tests (property and unit)</h2><p>"
        + _e(", ".join(f"{k} {v}" for k, v in p.suite.tests.to_json().items()))
        + "</p>"
    )
    failing = p.suite.failing_tests
    if failing:
        parts.append('<ul class="problems">')
        parts += [f"<li>{_e(t.outcome)}: <code>{_e(t.nodeid)}</code></li>" for t in failing]
        parts.append("</ul>")
    coverage = p.coverage
    parts.append("<h2>Coverage</h2>")
    if coverage is None:
        parts.append("<p>No coverage data.</p>")
    else:
        parts.append(
            f"<p>Total: <strong>{coverage.total:.1f}%</strong></p><table><thead><tr>"
            "<th>Module</th><th>Covered</th><th>Floor</th></tr></thead><tbody>"
        )
        for module, percent in coverage.modules.items():
            floor = coverage.floor_of(module)
            status = "" if floor is None else _badge("PASS" if percent >= floor else "FAIL")
            parts.append(
                f"<tr><td><code>{_e(module)}</code></td><td>{percent:.1f}% {status}</td>"
                f"<td>{'—' if floor is None else f'{floor:g}%'}</td></tr>"
            )
        parts.append("</tbody></table>")
    weaker = deviations(p.policy.to_json(), None if p.paper is None else p.paper.requirement)
    parts.append("<h2>Policy</h2>")
    if weaker:
        parts.append('<div class="warn"><strong>Below the library default:</strong><ul>')
        parts += [f"<li>{_e(w)}</li>" for w in weaker]
        parts.append("</ul></div>")
    else:
        parts.append("<p>The policy is the library's default (certification/policy.toml).</p>")
    parts.append(
        "<h2>Digests</h2><table><thead><tr><th>Subject</th><th>Digest</th></tr></thead><tbody>"
    )
    parts += [
        f"<tr><td>{_e(n)}</td><td><code>{_e(d)}</code></td></tr>"
        for n, d in _subject_rows(statement)
    ]
    policy_digest = p.policy.digest
    parts.append(
        f"<tr><td>policy</td><td><code>sha256:{_e(policy_digest)}</code></td></tr></tbody></table>"
    )
    parts += [
        "<h2>How to verify</h2>",
        f"<pre>{_e(trust_command())}\n{_e(verify_command())}</pre>",
        '<p class="muted">The gate trusts only keys you list (<code>--trusted-keys</code> or '
        "<code>SAFETRADE_TRUSTED_KEYS</code>), never a key shipped with the artifact, and "
        "refuses a trusted-keys file kept in the artifact's own folder. "
        "<code>signer.pub</code> is a convenience copy every certify run rewrites: compare its "
        "keyid with the one above before trusting it. Report digests are bound inside the "
        "signed artifact.</p>",
        "<h2>Out of scope</h2><ul>",
    ]
    parts += [f"<li>{_e(x)}</li>" for x in _OUT_OF_SCOPE]
    parts.append("</ul></main></body></html>")
    return "\n".join(parts) + "\n"
