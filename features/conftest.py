"""Shared steps and fixtures of the certification suite.

Every scenario drives the real, unmodified ``ccxt.kucoin`` client against the fake KuCoin
(``safetrade.testing.FakeKucoin``) in-process. Nothing in safetrade is mocked: the steps call
the reference bot, the gateway, the guard and the protector, and the Thens read the exchange's
own state and the requests it recorded.

The steps live in ``features/steps/`` by subject. pytest-bdd registers a step as a fixture of
the module that defines it, so they are star-imported here to reach every feature module
(``pytest_plugins`` here fails: pytest warns it cannot rewrite the modules' asserts, an error
under the project's ``filterwarnings``).

Conventions: money is parsed as ``Decimal`` (the ``Dec`` type of ``features.steps.types``,
never ``{x:f}``), waits go through a no-op sleeper, retries use
``RetryPolicy(attempts=3, backoff=(0.0,))``.
"""

from __future__ import annotations

import pytest

from safetrade.certification.evidence_plugin import apply_tag

# the steps' asserts are the suite's checks: their failures must show the values compared
pytest.register_assert_rewrite("features.steps")

from features.steps.assertions import *  # noqa: E402, F403
from features.steps.bot import *  # noqa: E402, F403
from features.steps.certification import *  # noqa: E402, F403
from features.steps.exchange import *  # noqa: E402, F403
from features.steps.paper import *  # noqa: E402, F403


def pytest_bdd_apply_tag(tag, function):
    return apply_tag(tag, function)
