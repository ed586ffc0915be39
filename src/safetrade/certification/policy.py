"""The certification policy: what must pass, coverage floors, validity.

Read from ``certification/policy.toml``. The policy decides what a *passing* certification
means; the gate additionally enforces :data:`MAX_VALIDITY_DAYS`, which a policy cannot raise.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import attrs

from safetrade.certification.digest import sha256_hex
from safetrade.errors import ConfigError
from safetrade.paper.summary import PaperRequirement

__all__ = [
    "LIBRARY_DEFAULTS",
    "LIBRARY_PAPER",
    "MAX_VALIDITY_DAYS",
    "SHIPPED_POLICY",
    "Policy",
    "below_floor",
    "deviations",
    "load_policy",
    "parse_policy",
    "stricter",
]

#: The policy file as safetrade ships it (``certification/policy.toml`` of a fresh clone is a
#: copy of it, for the owner to tighten): what "as the library ships it" means, and what the
#: library's own tests check the defaults against, so an owner's stricter policy never fails
#: the suite their certification runs.
SHIPPED_POLICY = Path(__file__).with_name("shipped_policy.toml")


class _PolicyFields(Protocol):
    # read-only members: frozen attrs classes (Policy, the predicate's PolicySummary) match
    @property
    def digest(self) -> str: ...
    @property
    def validity_days(self) -> int: ...
    @property
    def required_tags(self) -> tuple[str, ...]: ...
    @property
    def required_controls(self) -> tuple[str, ...]: ...
    @property
    def allow_skipped(self) -> bool: ...
    @property
    def allow_dirty(self) -> bool: ...
    @property
    def total_coverage_floor(self) -> float | None: ...
    @property
    def coverage_floors(self) -> Any: ...  # noqa: ANN401 - a mapping or its item pairs


def policy_record(policy: _PolicyFields) -> dict[str, object]:
    """The policy's record in the signed predicate: one format for the writer and the reader."""
    return {
        "digest": {"sha256": policy.digest},
        "validityDays": policy.validity_days,
        "requiredTags": list(policy.required_tags),
        "requiredControls": list(policy.required_controls),
        "allowSkipped": policy.allow_skipped,
        "allowDirty": policy.allow_dirty,
        "coverageFloors": dict(policy.coverage_floors),
        "totalCoverageFloor": policy.total_coverage_floor,
    }


#: Library-pinned upper bound on any certification's validity; the gate refuses longer ones.
MAX_VALIDITY_DAYS = 90


@attrs.frozen
class Policy:
    """A parsed certification policy; ``digest`` is the sha256 of the policy file's bytes."""

    validity_days: int
    required_tags: tuple[str, ...]
    required_controls: tuple[str, ...]
    allow_skipped: bool
    allow_dirty: bool
    features_dir: str
    total_coverage_floor: float | None
    coverage_floors: tuple[tuple[str, float], ...]
    digest: str
    # recorded in the predicate's own "paper" part, with the journal's summary
    paper: PaperRequirement = attrs.field(factory=PaperRequirement)

    def to_json(self) -> dict[str, object]:
        """Return the policy as it is recorded in the signed predicate."""
        return policy_record(self)


def _table(doc: Mapping[str, object], name: str) -> Mapping[str, object]:
    value = doc.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"policy [{name}] must be a table")
    return value


def _str_list(table: Mapping[str, object], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"policy {where}.{key} must be a list of strings")
    return tuple(value)


def _bool(table: Mapping[str, object], key: str, default: bool, where: str) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"policy {where}.{key} must be true or false, got {value!r}")
    return value


def _percent(value: object, where: str) -> float:
    # bool is an int subclass; "true" is never a percentage
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise ConfigError(f"policy {where} must be a percentage 0-100, got {value!r}")
    return float(value)


def parse_policy(data: bytes) -> Policy:
    """Parse and validate policy TOML bytes.

    Raises:
        ConfigError: The policy is malformed or asks for more than the library allows.
    """
    fix = "edit certification/policy.toml (see certification/README.md)"
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("certification policy is not valid TOML", why=str(exc), fix=fix) from exc
    known = {"certificate", "scenarios", "coverage", "paper"}
    if unknown := sorted(set(doc) - known):
        raise ConfigError(f"certification policy has unknown table(s) {unknown}", fix=fix)
    cert = _table(doc, "certificate")
    scen = _table(doc, "scenarios")
    cov = _table(doc, "coverage")
    days = cert.get("validity_days", 30)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_VALIDITY_DAYS:
        raise ConfigError(
            f"policy certificate.validity_days={days!r} is outside 1..{MAX_VALIDITY_DAYS}",
            why=f"the library caps validity at {MAX_VALIDITY_DAYS} days so controls are re-tested",
            fix=fix,
        )
    features_dir = scen.get("features_dir", "features")
    if not isinstance(features_dir, str):
        raise ConfigError("policy scenarios.features_dir must be a string", fix=fix)
    floors_table = _table(cov, "floors") if "floors" in cov else {}
    floors = tuple(
        (module, _percent(value, f"coverage.floors.{module!r}"))
        for module, value in sorted(floors_table.items())
    )
    total = cov.get("total_floor")
    return Policy(
        validity_days=days,
        required_tags=_str_list(scen, "required_tags", "scenarios"),
        required_controls=_str_list(scen, "required_controls", "scenarios"),
        allow_skipped=_bool(scen, "allow_skipped", False, "scenarios"),
        allow_dirty=_bool(cert, "allow_dirty", True, "certificate"),
        features_dir=features_dir,
        total_coverage_floor=None if total is None else _percent(total, "coverage.total_floor"),
        coverage_floors=floors,
        digest=sha256_hex(data),
        paper=_paper(_table(doc, "paper"), fix),
    )


def _paper(table: Mapping[str, object], fix: str) -> PaperRequirement:
    """``[paper]``: paper evidence of the certified code (safetrade.paper.summary)."""
    known = {"min_days", "min_round_trips", "max_rejections", "max_bare_seconds"}
    if unknown := sorted(set(table) - known):
        raise ConfigError(f"policy [paper] has unknown key(s) {unknown}", fix=fix)

    def number(key: str, *, whole: bool) -> object:
        value = table.get(key)
        kinds = (int,) if whole else (int, float)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, kinds) or value < 0
        ):
            kind = "a whole number >= 0" if whole else "a number >= 0"
            raise ConfigError(f"policy paper.{key} must be {kind}, got {value!r}", fix=fix)
        return value

    def decimal(value: object) -> Decimal | None:
        return None if value is None else Decimal(str(value))

    return PaperRequirement(
        min_days=decimal(number("min_days", whole=False)) or Decimal(0),
        min_round_trips=int(number("min_round_trips", whole=True) or 0),  # type: ignore[call-overload]
        max_rejections=None
        if (rejections := number("max_rejections", whole=True)) is None
        else int(rejections),  # type: ignore[call-overload]
        max_bare_seconds=decimal(number("max_bare_seconds", whole=False)),
    )


def load_policy(path: Path) -> Policy:
    """Read and parse the policy file at ``path``.

    Raises:
        ConfigError: The file is missing or invalid.
    """
    if not path.is_file():
        raise ConfigError(
            f"certification policy {path} does not exist",
            fix="pass --policy certification/policy.toml from the project root",
        )
    return parse_policy(path.read_bytes())


#: The policy safetrade ships (certification/policy.toml): what a review should expect.
LIBRARY_DEFAULTS: dict[str, Any] = {
    "validityDays": 30,
    "requiredTags": ["incident-2026-02-06"],
    "requiredControls": [
        "price-collar",
        "balance-check",
        "kill-switch",
        "protective-orders",
        "config-strict",
        "rounding",
        "position-sizing",
        "max-open-positions",
        "signal-threshold",
        "max-order-value",
        "code-binding",
    ],
    "allowSkipped": False,
    "allowDirty": True,
    "totalCoverageFloor": 80.0,
    "coverageFloors": {
        "safetrade/sizer.py": 90.0,
        "safetrade/rounder.py": 90.0,
        "safetrade/guard.py": 90.0,
        "safetrade/builder.py": 90.0,
        "safetrade/protector.py": 90.0,
        "safetrade/config.py": 90.0,
    },
}


#: The [paper] section safetrade ships, as ``PaperRequirement.to_json()`` records it (in the
#: predicate's own "paper" part, not in the policy record).
LIBRARY_PAPER: dict[str, Any] = {
    "minDays": "0",
    "minRoundTrips": 0,
    "maxRejections": 0,
    "maxBareSeconds": "10",
}


def deviations(policy: Mapping[str, Any], paper: Mapping[str, Any] | None = None) -> list[str]:
    """How a recorded policy (``Policy.to_json()``) is weaker than :data:`LIBRARY_DEFAULTS`.

    Args:
        policy: The policy record.
        paper: Its [paper] requirement as recorded (``PaperRequirement.to_json()``), compared
            with :data:`LIBRARY_PAPER` when given. None: not compared (the library floor,
            :func:`below_floor`, does not cover [paper]).
    """
    found: list[str] = []
    days = policy.get("validityDays")
    if not isinstance(days, int) or days > LIBRARY_DEFAULTS["validityDays"]:
        found.append(f"validity {days} days (library default {LIBRARY_DEFAULTS['validityDays']})")
    if policy.get("allowSkipped") is not False:
        found.append("skipped scenarios are allowed")
    for what, key in (("tag", "requiredTags"), ("control", "requiredControls")):
        have = policy.get(key)
        have = set(have) if isinstance(have, list) else set()
        found.extend(
            f"required {what} {name!r} dropped"
            for name in LIBRARY_DEFAULTS[key]
            if name not in have
        )
    total = policy.get("totalCoverageFloor")
    if not isinstance(total, (int, float)) or total < LIBRARY_DEFAULTS["totalCoverageFloor"]:
        found.append(f"total coverage floor {total} (library default 80)")
    floors = policy.get("coverageFloors")
    floors = floors if isinstance(floors, Mapping) else {}
    for module, default in LIBRARY_DEFAULTS["coverageFloors"].items():
        value = floors.get(module)
        if not isinstance(value, (int, float)) or value < default:
            found.append(f"coverage floor of {module} {value} (library default {default:g})")
    if paper is not None:
        found.extend(_paper_changes(paper)[0])
    return found


def _number(value: object) -> Decimal | None:
    """A recorded number (``"10"``, ``0``) as a Decimal; None when absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


# the [paper] keys as recorded and as policy.toml spells them; a ``max`` is weaker when larger
# (or removed), a ``min`` when smaller
_PAPER_KEYS = (
    ("maxRejections", "max_rejections"),
    ("maxBareSeconds", "max_bare_seconds"),
    ("minDays", "min_days"),
    ("minRoundTrips", "min_round_trips"),
)


def _paper_changes(paper: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """How a recorded [paper] requirement is weaker, and stricter, than :data:`LIBRARY_PAPER`."""
    weaker: list[str] = []
    stronger: list[str] = []
    for key, toml in _PAPER_KEYS:
        value, default = _number(paper.get(key)), _number(LIBRARY_PAPER[key])
        line = f"paper.{toml} {paper.get(key)} (library default {LIBRARY_PAPER[key]})"
        if value is None:
            weaker.append(
                f"paper.{toml} removed (library default {LIBRARY_PAPER[key]})"
                if key.startswith("max")
                else line
            )
        elif default is not None and value != default:
            (stronger if (value > default) == key.startswith("min") else weaker).append(line)
    return weaker, stronger


def stricter(policy: Mapping[str, Any], paper: Mapping[str, Any] | None = None) -> list[str]:
    """How a recorded policy differs from what the library ships without being weaker.

    A review reads "as the library ships it" as "nothing changed": a stricter policy is not a
    risk, but it is not the shipped one either (:func:`deviations` names the weaker changes).
    """
    found: list[str] = []
    days = policy.get("validityDays")
    if isinstance(days, int) and days < LIBRARY_DEFAULTS["validityDays"]:
        found.append(f"validity {days} days (library default {LIBRARY_DEFAULTS['validityDays']})")
    if policy.get("allowDirty") is False:
        found.append("a dirty work tree is refused (library default: allowed)")
    for what, key in (("tag", "requiredTags"), ("control", "requiredControls")):
        have = policy.get(key)
        extra = sorted(set(have) - set(LIBRARY_DEFAULTS[key])) if isinstance(have, list) else []
        found.extend(f"required {what} {name!r} added" for name in extra)
    total = policy.get("totalCoverageFloor")
    if isinstance(total, (int, float)) and total > LIBRARY_DEFAULTS["totalCoverageFloor"]:
        found.append(f"total coverage floor {total} (library default 80)")
    floors = policy.get("coverageFloors")
    defaults = LIBRARY_DEFAULTS["coverageFloors"]
    for module, value in sorted((floors if isinstance(floors, Mapping) else {}).items()):
        default = defaults.get(module)
        if default is None or (isinstance(value, (int, float)) and value > default):
            was = "none" if default is None else f"{default:g}"
            found.append(f"coverage floor of {module} {value} (library default {was})")
    if paper is not None:
        found.extend(_paper_changes(paper)[1])
    return found


def below_floor(policy: Mapping[str, Any]) -> list[str]:
    """Where a policy goes below the library's floor, which no policy file can lower.

    The floor is what the library ships (:data:`LIBRARY_DEFAULTS`) except for the validity,
    which a policy may set anywhere up to :data:`MAX_VALIDITY_DAYS`: the Feb 6 controls and
    tag must be required, the safety modules covered at least as the library asks, and a
    skipped scenario is never evidence.
    """
    return [d for d in deviations(policy) if not d.startswith("validity ")]


def scenario_is_required(
    controls: Iterable[str],
    incidents: Iterable[str],
    *,
    required_controls: Iterable[str],
    required_tags: Iterable[str],
) -> bool:
    """Whether a scenario is required evidence: it carries a required tag or control.

    The one rule both certify (building the statement) and the gate (reading it back) apply.
    """
    controls = set(controls)
    tags = {f"control-{c}" for c in controls} | {f"incident-{i}" for i in incidents}
    return bool(tags & set(required_tags)) or bool(controls & set(required_controls))
