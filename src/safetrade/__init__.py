"""safetrade: keeps automated crypto trading bots from hurting their owners.

What sizes and builds an order (market, rounder, sizer, builder, plan) and the errors are
imported eagerly and are cheap. Everything else loads on first attribute access
(``safetrade.check``, ``from safetrade import Trader``): the guard; the settings, the kill
switch and the retry policy, whose imports (logging, pathlib, json, datetime, difflib) cost
more than the core itself; and the parts at the ccxt boundary or on the network (the wire
encoding, gateway, fills, protector, alerts), so ``import safetrade`` never imports ccxt.
Type checkers see every name through the ``TYPE_CHECKING`` imports below.

To export a name: import it in the eager block (order building only) or add it to the
``TYPE_CHECKING`` block and ``_LAZY``; then to ``__all__`` (sorted).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from safetrade.builder import OrderIntent as OrderIntent
from safetrade.builder import OrderPurpose as OrderPurpose
from safetrade.builder import entry_order as entry_order
from safetrade.builder import flatten_order as flatten_order
from safetrade.builder import new_client_oid as new_client_oid
from safetrade.builder import stop_loss_order as stop_loss_order
from safetrade.builder import take_profit_order as take_profit_order
from safetrade.errors import AuthenticationFailed as AuthenticationFailed
from safetrade.errors import BotContractError as BotContractError
from safetrade.errors import CertificationError as CertificationError
from safetrade.errors import ConfigError as ConfigError
from safetrade.errors import DecisionMismatch as DecisionMismatch
from safetrade.errors import ExchangeError as ExchangeError
from safetrade.errors import ExchangeUnavailable as ExchangeUnavailable
from safetrade.errors import GuardRefused as GuardRefused
from safetrade.errors import InvalidValue as InvalidValue
from safetrade.errors import MarketSpecError as MarketSpecError
from safetrade.errors import OrderBuildError as OrderBuildError
from safetrade.errors import OrderNotFound as OrderNotFound
from safetrade.errors import OrderRejected as OrderRejected
from safetrade.errors import RoundingError as RoundingError
from safetrade.errors import SafetradeError as SafetradeError
from safetrade.errors import SizingError as SizingError
from safetrade.market import MarketSpec as MarketSpec
from safetrade.plan import TradePlan as TradePlan
from safetrade.plan import plan_trade as plan_trade
from safetrade.rounder import PositionSide as PositionSide
from safetrade.rounder import PricePurpose as PricePurpose
from safetrade.rounder import round_amount as round_amount
from safetrade.rounder import round_price as round_price
from safetrade.sizer import PositionSize as PositionSize
from safetrade.sizer import size_position as size_position

__version__ = "0.1.0"

if TYPE_CHECKING:  # type checkers see the real types; at run time these load on first use
    from safetrade.alerts import Alert as Alert
    from safetrade.alerts import WebhookAlerter as WebhookAlerter
    from safetrade.config import Mode as Mode
    from safetrade.config import Settings as Settings
    from safetrade.config import load_settings as load_settings
    from safetrade.entry import EntryResult as EntryResult
    from safetrade.entry import execute_entry as execute_entry
    from safetrade.fills import Fill as Fill
    from safetrade.gateway import Gateway as Gateway
    from safetrade.gateway import OrderStatus as OrderStatus
    from safetrade.guard import AccountState as AccountState
    from safetrade.guard import Decision as Decision
    from safetrade.guard import GuardLimits as GuardLimits
    from safetrade.guard import check as check
    from safetrade.killswitch import KillSwitch as KillSwitch
    from safetrade.protector import Flattened as Flattened
    from safetrade.protector import Halted as Halted
    from safetrade.protector import Protected as Protected
    from safetrade.protector import Protector as Protector
    from safetrade.retry import RetryPolicy as RetryPolicy
    from safetrade.trader import Trader as Trader
    from safetrade.trader import TradeResult as TradeResult
    from safetrade.wire import CcxtOrderCall as CcxtOrderCall
    from safetrade.wire import to_ccxt as to_ccxt

# Loaded on first access: name -> module (the TYPE_CHECKING block above, at run time).
_LAZY: dict[str, str] = {
    "AccountState": "safetrade.guard",
    "Alert": "safetrade.alerts",
    "CcxtOrderCall": "safetrade.wire",
    "Decision": "safetrade.guard",
    "EntryResult": "safetrade.entry",
    "Fill": "safetrade.fills",
    "Flattened": "safetrade.protector",
    "Gateway": "safetrade.gateway",
    "GuardLimits": "safetrade.guard",
    "Halted": "safetrade.protector",
    "KillSwitch": "safetrade.killswitch",
    "Mode": "safetrade.config",
    "OrderStatus": "safetrade.gateway",
    "Protected": "safetrade.protector",
    "Protector": "safetrade.protector",
    "RetryPolicy": "safetrade.retry",
    "Settings": "safetrade.config",
    "TradeResult": "safetrade.trader",
    "Trader": "safetrade.trader",
    "WebhookAlerter": "safetrade.alerts",
    "check": "safetrade.guard",
    "execute_entry": "safetrade.entry",
    "load_settings": "safetrade.config",
    "to_ccxt": "safetrade.wire",
}


def __getattr__(name: str) -> Any:  # noqa: ANN401 - lazily loaded names vary in type
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'safetrade' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    # from now on a plain attribute, as an eager import would be: st.check(...) in a trading
    # loop must not pay an import lookup (1.5 us) per call
    globals()[name] = value
    return value


__all__ = [
    "AccountState",
    "Alert",
    "AuthenticationFailed",
    "BotContractError",
    "CcxtOrderCall",
    "CertificationError",
    "ConfigError",
    "Decision",
    "DecisionMismatch",
    "EntryResult",
    "ExchangeError",
    "ExchangeUnavailable",
    "Fill",
    "Flattened",
    "Gateway",
    "GuardLimits",
    "GuardRefused",
    "Halted",
    "InvalidValue",
    "KillSwitch",
    "MarketSpec",
    "MarketSpecError",
    "Mode",
    "OrderBuildError",
    "OrderIntent",
    "OrderNotFound",
    "OrderPurpose",
    "OrderRejected",
    "OrderStatus",
    "PositionSide",
    "PositionSize",
    "PricePurpose",
    "Protected",
    "Protector",
    "RetryPolicy",
    "RoundingError",
    "SafetradeError",
    "Settings",
    "SizingError",
    "TradePlan",
    "TradeResult",
    "Trader",
    "WebhookAlerter",
    "__version__",
    "check",
    "entry_order",
    "execute_entry",
    "flatten_order",
    "load_settings",
    "new_client_oid",
    "plan_trade",
    "round_amount",
    "round_price",
    "size_position",
    "stop_loss_order",
    "take_profit_order",
    "to_ccxt",
]
