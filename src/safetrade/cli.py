"""The ``safetrade`` command line.

Each subcommand lives in its own module, imported only when that subcommand runs, so
``safetrade --help`` stays fast and does not import ccxt. A command module exposes
``configure(parser)`` (add its arguments) and ``run(args) -> int`` (the exit status).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from safetrade.errors import SafetradeError

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "fake-kucoin": (
        "safetrade.testing.serve",
        "serve the fake KuCoin on 127.0.0.1 for bots in any language",
    ),
    "keygen": ("safetrade.certification.cli", "create an Ed25519 certification signing key"),
    "conformance": (
        "safetrade.certification.conformance.cli",
        "run a bot through the incident and fault scenarios against the fake KuCoin",
    ),
    "suite": (
        "safetrade.certification.suite_runner",
        "run safetrade's certification suite (covered, with property tests in parallel)",
    ),
    "certify": (
        "safetrade.certification.cli",
        "turn a finished certification run into a signed artifact and report",
    ),
    "verify": ("safetrade.certification.cli", "verify a certification artifact"),
    "trust": (
        "safetrade.certification.cli",
        "trust a signer's public key (an explicit act, showing its fingerprint)",
    ),
    "preflight": ("safetrade.preflight", "run every live go/no-go check and print a table"),
    "paper": ("safetrade.paper.cli", "paper status: days, round trips, rejections, bare time"),
}


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with one subparser per command (arguments added lazily)."""
    parser = argparse.ArgumentParser(prog="safetrade", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``safetrade`` command line and return its exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    top = build_parser()
    if not args_list or args_list[0] not in COMMANDS:
        top.parse_args(args_list)  # prints usage and exits 2 for unknown commands
        return 2
    name, rest = args_list[0], args_list[1:]
    module = importlib.import_module(COMMANDS[name][0])
    parser = argparse.ArgumentParser(prog=f"safetrade {name}", description=COMMANDS[name][1])
    module.configure(parser, name)
    args = parser.parse_args(rest)
    try:
        status: int = module.run(args, name)
    except SafetradeError as exc:
        print(f"safetrade {name}: {exc}", file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
