"""``safetrade keygen``, ``certify``, ``verify`` and ``trust``.

One module serves the four commands; :func:`configure` and :func:`run` dispatch on the name.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from safetrade.certification.certify import CertifyInputs, certify
from safetrade.certification.gate import DEFAULT_ARTIFACT, verify_artifact
from safetrade.certification.keys import (
    ENV_KEY,
    ENV_KEY_FILE,
    ENV_TRUSTED_KEYS,
    generate_key_file,
    load_signing_key,
    parse_trusted_keys,
    trusted_keys_path,
)
from safetrade.certification.predicate import Predicate
from safetrade.certification.report import trust_command, verify_command
from safetrade.certification.statement import format_time
from safetrade.config import DEFAULT_PAPER_DB

if TYPE_CHECKING:
    import argparse

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser, name: str) -> None:
    """Add the arguments of command ``name``."""
    if name == "keygen":
        parser.add_argument(
            "--out", required=True, type=Path, help="where to write the private key"
        )
    elif name == "certify":
        parser.add_argument(
            "--out", type=Path, default=Path("certification/out"), help="output folder"
        )
        parser.add_argument(
            "--policy", type=Path, default=Path("certification/policy.toml"), help="policy file"
        )
        parser.add_argument(
            "--evidence", type=Path, help="evidence JSON (default OUT/evidence.json)"
        )
        parser.add_argument(
            "--coverage", type=Path, help="coverage JSON (default OUT/coverage.json)"
        )
        parser.add_argument(
            "--cucumber", type=Path, help="cucumber JSON (default OUT/cucumber.json)"
        )
        parser.add_argument(
            "--project-root", type=Path, default=Path(), help="project root (git, features)"
        )
        parser.add_argument(
            "--paper-journal",
            type=Path,
            help="the paper account whose journal the policy's [paper] section is checked "
            "against (default $SAFETRADE_PAPER_DB, else PROJECT_ROOT/.safetrade/paper.sqlite3)",
        )
        parser.add_argument(
            "--conformance",
            type=Path,
            help="the bot's conformance run (default OUT/conformance.json, written by "
            "`safetrade conformance`); it names the bot being certified",
        )
    elif name == "trust":
        parser.add_argument("action", choices=("add", "list"), help="add a key, or list them")
        parser.add_argument(
            "keyfile", type=Path, nargs="?", help="public key to trust (e.g. a signer.pub)"
        )
        parser.add_argument(
            "--label", help="who holds the key and why you trust it (required for add)"
        )
        parser.add_argument(
            "--trusted-keys",
            type=Path,
            help=f"the trusted-keys file (default ${ENV_TRUSTED_KEYS})",
        )
    elif name == "verify":
        parser.add_argument("artifact", type=Path, nargs="?", default=DEFAULT_ARTIFACT)
        parser.add_argument(
            "--trusted-keys",
            type=Path,
            help=f"file of trusted public keys (default ${ENV_TRUSTED_KEYS})",
        )
        parser.add_argument(
            "--bot-package",
            default=None,
            help="importable package of the bot you will run (default: the bot the artifact "
            "names, measured as installed here)",
        )
    else:  # pragma: no cover - the top-level CLI only maps the three names above
        raise ValueError(f"unknown certification command {name!r}")


def run(args: argparse.Namespace, name: str) -> int:
    """Run command ``name`` and return its exit status."""
    if name == "keygen":
        return _keygen(args.out)
    if name == "certify":
        return _certify(args)
    if name == "trust":
        return _trust(args)
    return _verify(args)


def _keygen(out: Path) -> int:
    if out.exists():
        print(
            f"safetrade keygen: {out} already exists; refusing to overwrite a key", file=sys.stderr
        )
        return 1
    public = generate_key_file(out)
    print(f"wrote Ed25519 private key {out} (mode 0600). Never commit it.")
    print(f"public key: {public.hex}")
    print(f"keyid:      {public.keyid}  ({public.fingerprint})")
    print()
    print(f"sign with it:  export {ENV_KEY_FILE}={out.resolve()}")
    print(f"trust it:      add the public key line above to the file named by ${ENV_TRUSTED_KEYS}")
    print("               on every machine that runs the bot live (or pass --trusted-keys FILE).")
    return 0


def _certify(args: argparse.Namespace) -> int:
    out: Path = args.out
    key = load_signing_key(os.environ, Path.home())
    if key.developer:
        named = os.environ.get(ENV_KEY_FILE) or os.environ.get(ENV_KEY)
        why = (
            f"!! {ENV_KEY_FILE} / {ENV_KEY} names the auto-created developer key."
            if named
            else f"!! Neither {ENV_KEY_FILE} nor {ENV_KEY} is set."
        )
        print(
            "!" * 78 + f"\n!! Signing with a LOCAL DEVELOPER KEY: {key.source}\n"
            f"{why} The artifact is labelled\n"
            "!! 'signed with a local developer key'; do not trust this key in production.\n"
            + "!"
            * 78,
            file=sys.stderr,
        )
    standard = CertifyInputs.in_folder(args.project_root, out, args.policy)
    inputs = attrs.evolve(
        standard,
        evidence=args.evidence or standard.evidence,
        coverage=args.coverage or standard.coverage,
        cucumber=args.cucumber or standard.cucumber,
        conformance=args.conformance or standard.conformance,
        paper_journal=args.paper_journal
        or Path(os.environ.get("SAFETRADE_PAPER_DB") or args.project_root / DEFAULT_PAPER_DB),
    )
    outcome = certify(inputs, signing_key=key, now=datetime.now(UTC))
    predicate = Predicate.from_json(outcome.statement["predicate"])
    counts = predicate.suite.counts.to_json()
    conformance = predicate.conformance
    if conformance is not None:
        bot = conformance.bot
        who = (
            "safetrade's REFERENCE BOT (name yours: tox -e certify -- --bot PATH)"
            if bot.is_reference
            else f"{bot.distribution or bot.package} {bot.version or ''}".strip()
        )
        print(f"bot:       {who}, package {bot.package}: conformance {conformance.result}")
    print(f"scenarios: {', '.join(f'{k} {v}' for k, v in counts.items())}")
    if predicate.paper is not None:
        print(f"paper:     {predicate.paper.line()}")
    print(f"reports:   {', '.join(str(p) for p in outcome.reports)}")
    if not outcome.certified:
        sys.stdout.flush()  # the summary above, then the problems, in that order
        print("NOT CERTIFIED; no artifact written. Problems:", file=sys.stderr)
        for problem in outcome.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"CERTIFIED: {outcome.artifact} (sha256 {outcome.envelope_sha256})")
    print(f"signer:    {key.public.fingerprint} keyid {key.public.keyid} ({key.source})")
    print(f"expires:   {format_time(predicate.expires_at)}")
    for subject in outcome.statement["subject"]:
        for algorithm, value in subject["digest"].items():
            print(f"subject:   {subject['name']} {algorithm}:{value}")
    print(f"trust:     {trust_command()}")
    print("           (once, after checking the keyid above with whoever signed)")
    print(f"verify:    {verify_command(str(outcome.artifact))}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    verdict = verify_artifact(
        args.artifact, trusted_keys=args.trusted_keys, bot_package=args.bot_package
    )
    print(verdict.table())
    return 0 if verdict.ok else 1


def _trust(args: argparse.Namespace) -> int:
    """Trusting a key is its own, explicit act: never because a key sits next to an artifact."""
    target: Path | None = args.trusted_keys or trusted_keys_path(None, os.environ)
    if target is None:
        print(
            "safetrade trust: name the trusted-keys file with --trusted-keys or "
            f"${ENV_TRUSTED_KEYS}",
            file=sys.stderr,
        )
        return 2
    known = parse_trusted_keys(target.read_text(encoding="utf-8")) if target.is_file() else ()
    if args.action == "list":
        for key in known:
            print(f"{key.fingerprint}  keyid {key.keyid}")
        print(f"{len(known)} trusted key(s) in {target}")
        return 0
    if args.keyfile is None or not args.label or not args.label.strip():
        print("safetrade trust add: give the key file and --label WHO", file=sys.stderr)
        return 2
    keys = parse_trusted_keys(args.keyfile.read_text(encoding="utf-8"))
    if len(keys) != 1:
        print(f"safetrade trust add: {args.keyfile} holds {len(keys)} keys, not 1", file=sys.stderr)
        return 1
    (key,) = keys
    print(f"key:   {key.fingerprint}")
    print(f"keyid: {key.keyid}")
    if key in known:
        print(f"already trusted in {target}")
        return 0
    label = " ".join(args.label.split())
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a", encoding="utf-8") as out:
        out.write(f"# {label} (added {datetime.now(UTC):%Y-%m-%d}, keyid {key.keyid})\n")
        out.write(f"{key.hex}\n")
    print(f"trusted by {target} as {label!r}: check this keyid with the key's owner")
    return 0
