"""KuCoin wire conventions shared by the fake: envelope, number format, error bodies.

Error codes and messages are KuCoin's own (see ``shared/reference/kucoin-wire.md`` §3); the
comment next to each says which ccxt 4.5.90 exception class the body makes ccxt raise.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import attrs

OK_CODE = "200000"


@attrs.frozen
class Rejection:
    """A KuCoin error response: HTTP status plus the ``code``/``msg`` body.

    Attributes:
        code: KuCoin's error code, e.g. ``"400100"``.
        msg: KuCoin's message text (ccxt matches it exactly before looking at the code).
        status: HTTP status of the response (KuCoin answers most business errors with 200).
    """

    code: str
    msg: str
    status: int = 200

    def body(self) -> dict[str, str]:
        """Return the JSON body KuCoin sends for this error."""
        return {"code": self.code, "msg": self.msg}

    def error(self) -> KucoinError:
        """Return a fresh exception carrying this rejection, ready to raise."""
        return KucoinError(self)


class KucoinError(Exception):
    """Raised inside the fake to answer a request with a KuCoin error body."""

    def __init__(self, rejection: Rejection) -> None:
        super().__init__(f"{rejection.code} {rejection.msg}")
        self.rejection = rejection


def ok(data: object) -> dict[str, object]:
    """Wrap ``data`` in KuCoin's success envelope."""
    return {"code": OK_CODE, "data": data}


def fmt(value: Decimal | None) -> str | None:
    """Format a Decimal the way KuCoin does: plain digits, never an exponent."""
    if value is None:
        return None
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def parse_decimal(value: object, name: str) -> Decimal | None:
    """Parse a request number (string or JSON number) into a Decimal without going through float.

    Args:
        value: The raw JSON value; ``None`` means the field is absent.
        name: Field name, used in the error message.

    Returns:
        The Decimal, or None when the field is absent.

    Raises:
        KucoinError: 400100 when the value is not a finite number.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise parameter_error(f"{name} is invalid")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise parameter_error(f"{name} is invalid") from None
    if not number.is_finite():
        raise parameter_error(f"{name} is invalid")
    return number


def query_int(query: dict[str, str], name: str, default: int) -> int:
    """An integer query parameter; anything else is KuCoin's 400100, never a crash.

    KuCoin publishes no text for a malformed number (``startAt=abc``); its generic 400100 is
    "Parameter Error" (spot error codes, https://www.kucoin.com/docs/basic-info/errors-code/
    spot-errors-code).
    """
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.lstrip("-").isdigit():
        raise parameter_error(f"{name} must be an integer")
    return int(raw)


# --- error bodies ------------------------------------------------------------------------------


def parameter_error(detail: str) -> KucoinError:
    """400100 with a text not in ccxt's table -> ccxt ``BadRequest``."""
    return Rejection("400100", f"Parameter Error: {detail}").error()


PRICE_INCREMENT = Rejection("400100", "Price increment invalid.")  # BadRequest
SIZE_INCREMENT = Rejection("400100", "Order size increment invalid.")  # InvalidOrder
FUNDS_INCREMENT = Rejection("400100", "Funds increment invalid.")  # BadRequest
SIZE_BELOW_MIN = Rejection("400100", "Order size below the minimum requirement.")  # InvalidOrder
SIZE_ABOVE_MAX = Rejection("400100", "Order size above the maximum requirement.")  # BadRequest
FUNDS_BELOW_MIN = Rejection("600100", "Funds below the minimum requirement.")  # InsufficientFunds
BALANCE_INSUFFICIENT = Rejection("200004", "Balance insufficient!")  # InsufficientFunds
UNSUPPORTED_PAIR = Rejection("400100", "Unsupported trading pair.")  # BadSymbol
PRICE_OUT_OF_RANGE = Rejection("400100", "price not in the given range!")  # BadRequest
TOO_MANY_ORDERS = Rejection("200003", "Number of orders breached the limit")  # ExchangeError
# KuCoin's HF API documents 126044 "clientOid duplicate"; ccxt maps the code to InvalidOrder.
DUPLICATE_CLIENT_OID = Rejection("126044", "clientOid duplicate")
# classic accounts: an active order's clientOid sent again (400100 -> ccxt BadRequest)
CLASSIC_DUPLICATE_CLIENT_OID = Rejection("400100", "validation.createOrder.clientOidDuplicated")
ORDER_NOT_FOUND = Rejection("400100", "order not exist.")  # OrderNotFound
HF_ORDER_NOT_FOUND = Rejection("400100", "The order does not exist.")  # OrderNotFound
# cancelling an order that is gone or done: KuCoin's text today (ccxt issue 27240, 2025-11;
# the older "order_not_exist_or_not_allow_to_cancel" of kucoin-python-sdk issue 22 is retired);
# ccxt raises OrderNotFound for it
CANCEL_NOT_FOUND = Rejection("400100", "Order not exist or not allow to be cancelled")
HF_CANCEL_NOT_FOUND = CANCEL_NOT_FOUND
URL_NOT_FOUND = Rejection("404000", "Url Not Found", 404)  # NotSupported
# auth (gateway) errors, in the order the gateway checks them
MISSING_HEADER = Rejection("400001", "Please check the URL of your request.", 401)
BAD_TIMESTAMP = Rejection("400002", "Invalid KC-API-TIMESTAMP", 400)  # InvalidNonce
UNKNOWN_KEY = Rejection("400003", "KC-API-KEY not exists", 401)  # AuthenticationError
BAD_PASSPHRASE = Rejection("400004", "Invalid KC-API-PASSPHRASE", 401)  # AuthenticationError
BAD_SIGN = Rejection("400005", "Invalid KC-API-SIGN", 401)  # AuthenticationError
# transport-level faults
RATE_LIMITED = Rejection("429000", "Too Many Requests", 429)  # RateLimitExceeded
SERVER_ERROR = Rejection("500000", "Internal Server Error", 500)  # ExchangeNotAvailable


def no_market_price(symbol: str) -> Rejection:
    """A market order on a symbol that has no price yet (fake-specific text, 400100 -> BadRequest).

    Real KuCoin always has a book; the fake only has the price a test set.
    """
    return Rejection("400100", f"No market price for {symbol}: there is nothing to match with.")


def market_funds_below_min(minimum: Decimal, quote: str) -> Rejection:
    """600101, KuCoin's text (sic) for a market order whose funds are below minFunds."""
    return Rejection("600101", f"The order funds should more then {fmt(minimum)} {quote}.")
