"""Find the bot under certification and check, in seconds, that it offers the contract.

A bot is named as ``module:factory``, as a distribution (whose ``safetrade.bots`` entry point
is used), or as an entry-point name. Nothing named means the reference bot, and every message
says so. The *bot package* is what certification digests and what the live gate compares: the
top-level package of the factory's module (``safetrade.reference_bot`` for the reference bot,
which lives inside safetrade).
"""

from __future__ import annotations

import importlib
import importlib.metadata
from pathlib import Path
from typing import TYPE_CHECKING, cast

import attrs

from safetrade.certification import installed
from safetrade.certification.contract import ENTRY_POINT_GROUP
from safetrade.certification.digest import TreeError, package_location
from safetrade.certification.installed import normalise
from safetrade.errors import BotContractError

if TYPE_CHECKING:
    from safetrade.certification.contract import BotContext, BotFactory

__all__ = [
    "CONTRACT_METHODS",
    "REFERENCE_BOT",
    "BotUnderTest",
    "bot_package",
    "check_offers_contract",
    "load_bot",
]

#: The reference bot's entry point (safetrade's own pyproject.toml).
REFERENCE_BOT = "safetrade.reference_bot.certifiable:make_bot"
CONTRACT_METHODS = ("start", "on_signal", "tick", "stop")
_FIX = (
    "name a factory as --bot module:function, or add to the bot's pyproject.toml\n"
    f'  [project.entry-points."{ENTRY_POINT_GROUP}"]\n  mybot = "mybot.certify:make_bot"\n'
    "and install it (tox -e certify -- --bot PATH installs a bot folder for you)"
)


@attrs.frozen
class BotUnderTest:
    """The bot a certification run exercises.

    Attributes:
        spec: What was named (``module:factory``, distribution or entry-point name).
        factory: ``make_bot(context)``.
        factory_name: ``module:attribute`` of the factory.
        package: The importable package digested and compared by the live gate.
        distribution: The installed distribution providing it, if known.
        version: That distribution's version, if known.
        is_reference: Whether this is safetrade's reference bot.
    """

    spec: str
    factory: BotFactory
    factory_name: str
    package: str
    distribution: str | None
    version: str | None
    is_reference: bool

    def describe(self) -> str:
        """``mybot 1.2.0 (package mybot, factory mybot.certify:make_bot)``."""
        who = "the reference bot" if self.is_reference else (self.distribution or self.package)
        version = f" {self.version}" if self.version else ""
        return f"{who}{version} (package {self.package}, factory {self.factory_name})"


def _package_of(module: str) -> str:
    parts = module.split(".")
    # the reference bot (and any bot shipped inside safetrade) is a subpackage of safetrade;
    # digesting all of safetrade as "the bot" would say nothing about the bot
    if parts[0] == "safetrade" and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def _distribution_of(package: str) -> tuple[str | None, str | None]:
    top = package.split(".", maxsplit=1)[0]
    if top == "safetrade":  # an editable install is not listed by packages_distributions()
        return "safetrade", installed.version_of("safetrade")
    try:
        location: Path | None = package_location(top)
    except TreeError:
        location = None
    names = installed.owners_of(top, location=location)
    if not names:
        return None, None
    return names[0], installed.version_of(names[0])


def _entry_points(spec: str) -> list[importlib.metadata.EntryPoint]:
    group = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    wanted = normalise(spec)
    by_dist = [ep for ep in group if ep.dist is not None and normalise(ep.dist.name) == wanted]
    return by_dist or [ep for ep in group if ep.name == spec]


def _import_factory(module_name: str, attribute: str, spec: str) -> BotFactory:
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise BotContractError(
            f"bot {spec!r}: importing {module_name} failed: {type(exc).__name__}: {exc}",
            fix="fix the bot so that `python -c 'import "
            f"{module_name}'` works in the certify environment",
        ) from exc
    factory: object = module
    for part in attribute.split("."):
        factory = getattr(factory, part, None)
        if factory is None:
            raise BotContractError(
                f"bot {spec!r}: {module_name} has no attribute {attribute!r}", fix=_FIX
            )
    if not callable(factory):
        raise BotContractError(f"bot {spec!r}: {module_name}:{attribute} is not callable", fix=_FIX)
    return cast("BotFactory", factory)


def _locate(spec: str | None) -> tuple[str, str, str]:
    """``(name, module, attribute)`` of the factory ``spec`` names, without importing it."""
    name = spec.strip() if spec else ""
    if not name:
        name = REFERENCE_BOT
    if ":" in name:
        module_name, _, attribute = name.partition(":")
    else:
        found = _entry_points(name)
        if not found:
            known = sorted(
                f"{ep.name} ({ep.dist.name if ep.dist else '?'})"
                for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
            )
            raise BotContractError(
                (
                    f"bot {name!r}: no installed distribution or entry point of group "
                    f"{ENTRY_POINT_GROUP!r} has that name (installed bots: "
                    f"{', '.join(known) or 'none'})"
                ),
                fix=_FIX,
            )
        if len(found) > 1:
            raise BotContractError(
                (
                    f"bot {name!r}: {len(found)} entry points of group {ENTRY_POINT_GROUP!r} "
                    f"match ({', '.join(ep.value for ep in found)}); certification runs one bot"
                ),
                fix="name one of them as --bot module:function",
            )
        module_name, _, attribute = found[0].value.partition(":")
    module_name, attribute = module_name.strip(), attribute.strip()
    if not module_name or not attribute:
        raise BotContractError(f"bot {name!r}: expected module:function", fix=_FIX)
    return name, module_name, attribute


def bot_package(spec: str | None) -> str:
    """The package ``spec``'s bot lives in, found without importing it (to measure coverage)."""
    return _package_of(_locate(spec)[1])


def load_bot(spec: str | None) -> BotUnderTest:
    """Resolve and import the bot's factory (nothing is built or run yet).

    Args:
        spec: ``module:factory``, a distribution name, an entry-point name of group
            ``safetrade.bots``, or None for the reference bot.

    Raises:
        BotContractError: The bot cannot be found or imported; the message says how to fix.
    """
    name, module_name, attribute = _locate(spec)
    factory = _import_factory(module_name, attribute, name)
    package = _package_of(module_name)
    distribution, version = _distribution_of(package)
    return BotUnderTest(
        spec=name,
        factory=factory,
        factory_name=f"{module_name}:{attribute}",
        package=package,
        distribution=distribution,
        version=version,
        is_reference=f"{module_name}:{attribute}" == REFERENCE_BOT,
    )


def check_offers_contract(bot: BotUnderTest, context: BotContext) -> object:
    """Build the bot once and check it has the four contract methods; return the instance.

    Raises:
        CertificationError: The factory raised, or the instance lacks a contract method.
    """
    try:
        instance = bot.factory(context)
    except Exception as exc:
        raise BotContractError(
            f"bot {bot.spec!r}: {bot.factory_name}(context) raised {type(exc).__name__}: {exc}",
            fix="the factory must only build the bot; connect in start()",
        ) from exc
    missing = [m for m in CONTRACT_METHODS if not callable(getattr(instance, m, None))]
    if missing:
        raise BotContractError(
            (
                f"bot {bot.spec!r}: {bot.factory_name}(context) returned {type(instance).__name__} "
                f"without {', '.join(missing)}()"
            ),
            fix="implement start(), on_signal(signal), tick() and stop() "
            "(safetrade.certification.contract.CertifiableBot)",
        )
    return instance
