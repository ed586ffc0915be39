"""Unit tests for safetrade.errors: one tree, messages that say what, why and how to fix."""

from __future__ import annotations

import pytest

import safetrade
from safetrade import errors

ALL_ERRORS = [getattr(errors, name) for name in errors.__all__]


class TestHierarchy:
    @pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
    def test_every_error_is_a_safetrade_error(self, cls):
        """Catching SafetradeError catches every error the library raises."""
        assert issubclass(cls, errors.SafetradeError)
        assert issubclass(cls, Exception)

    @pytest.mark.parametrize(
        "cls",
        [
            errors.ConfigError,
            errors.InvalidValue,
            errors.MarketSpecError,
            errors.RoundingError,
            errors.OrderBuildError,
            errors.DecisionMismatch,
        ],
        ids=lambda c: c.__name__,
    )
    def test_value_problems_are_also_value_errors(self, cls):
        """Errors about bad values are ValueErrors too, so generic handlers still catch them."""
        assert issubclass(cls, ValueError)

    @pytest.mark.parametrize(
        "cls",
        [
            errors.ExchangeUnavailable,
            errors.AuthenticationFailed,
            errors.OrderRejected,
            errors.OrderNotFound,
        ],
        ids=lambda c: c.__name__,
    )
    def test_exchange_failures_share_a_base(self, cls):
        """Every exchange failure is an ExchangeError."""
        assert issubclass(cls, errors.ExchangeError)

    def test_design_names_are_exported(self):
        """The error names design.md promises are importable from safetrade itself."""
        for name in (
            "ConfigError",
            "SizingError",
            "RoundingError",
            "OrderRejected",
            "GuardRefused",
            "CertificationError",
        ):
            assert getattr(safetrade, name) is getattr(errors, name)


class TestMessages:
    def test_what_why_and_fix_are_composed(self):
        """The message reads 'what; why. Fix: fix.' and keeps the pieces as attributes."""
        exc = errors.SizingError("no size fits", why="balance is 0", fix="fund the account")
        assert str(exc) == "no size fits; balance is 0. Fix: fund the account."
        assert (exc.what, exc.why, exc.fix) == ("no size fits", "balance is 0", "fund the account")

    def test_trailing_periods_are_not_doubled(self):
        """Pieces that already end with a period do not produce '..'."""
        exc = errors.SafetradeError("a.", why="b.", fix="c.")
        assert str(exc) == "a; b. Fix: c."

    def test_question_keeps_its_mark(self):
        """A 'did you mean ...?' message ends with its question mark, not '?.'."""
        exc = errors.ConfigError("did you mean X?")
        assert str(exc) == "did you mean X?"

    def test_guard_refused_lists_every_reason(self):
        """GuardRefused keeps every reason and shows all of them in its message."""
        exc = errors.GuardRefused(["kill-switch: on", "risk-limit: too big"])
        assert exc.reasons == ("kill-switch: on", "risk-limit: too big")
        assert "kill-switch: on" in str(exc)
        assert "risk-limit: too big" in str(exc)

    def test_exchange_error_keeps_the_exchange_words(self):
        """An ExchangeError shows KuCoin's own message and code verbatim."""
        exc = errors.OrderRejected(
            "placing take-profit",
            exchange_code="400100",
            exchange_message="Price increment invalid",
        )
        assert exc.exchange_code == "400100"
        assert "exchange said: Price increment invalid (code 400100)" in str(exc)

    def test_certification_error_lists_problems_and_fix(self):
        """CertificationError lists every failed check and the repair command."""
        exc = errors.CertificationError(["expired", "digest mismatch"], fix="run tox -e certify")
        assert exc.problems == ("expired", "digest mismatch")
        assert "expired; digest mismatch" in str(exc)
        assert "Fix: run tox -e certify." in str(exc)
