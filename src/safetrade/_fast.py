"""Build a frozen attrs value from values its maker has already checked, at a third of the cost.

The ``__init__`` attrs generates for a frozen slotted class stores each field through
``object.__setattr__`` (about 150 ns a field on CPython 3.11) and then calls every field's
validator. The core builds a PositionSize (14 fields), an OrderIntent (10), a TradePlan, a
Decision and a CcxtOrderCall for every order, from values it has just computed and checked,
so their makers store the fields through the slots' own descriptors instead (about 60 ns).

The result is the same instance the class's constructor would give (equal, same fields, same
class); the tests compare the two for every maker. A maker lists the fields it sets, and
:func:`slot_setters` refuses a list that differs from the class's fields, so adding a field to
the class fails at import until its maker sets it too.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

__all__ = ["new", "slot_setters"]

#: ``new(cls)``: an instance with no field set yet (``object.__new__``).
new = object.__new__


def slot_setters(cls: type, *names: str) -> tuple[Callable[[object, object], None], ...]:
    """The slot descriptors' setters of ``cls``'s fields, in ``names`` order.

    Raises:
        TypeError: If ``names`` is not exactly the class's fields in order.
    """
    fields = tuple(field.name for field in attrs.fields(cls))
    if fields != names:
        raise TypeError(
            f"{cls.__name__} has the fields {fields} but its maker lists {names}: "
            "the maker must store every field"
        )
    return tuple(vars(cls)[name].__set__ for name in names)
