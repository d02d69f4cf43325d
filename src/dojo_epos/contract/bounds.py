"""The bounded scalar types every contract model is built from.

The bounds are what storage can hold, so that a value no database could keep is refused as
InvalidRequest naming the field (and never reaches a handler):

- text is Unicode text without NUL: a lone surrogate (``"\\ud800"`` is valid JSON) cannot be encoded
  as UTF-8 and PostgreSQL cannot store NUL, even in a path id. The pattern makes pydantic read the
  value as Unicode text, which refuses lone surrogates too;
- identifiers and names have a length an EPOS can index (:data:`Id`, :data:`DojoId`, :data:`Name`,
  :data:`Label`); free text (:data:`Text`) is bounded only by the request size;
- money is a 64-bit integer of minor units, counts (quantities, covers, percentages) 32-bit;
- a date-time is an ISO 8601 string with an offset that stays within years 1..9999 once converted
  to UTC (``9999-12-31T23:59:59-05:00`` does not); a JSON number is not a date-time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StrictInt, StringConstraints

__all__ = [
    "INT32_MAX", "INT64_MAX", "DojoId", "Id", "Instant", "Int32", "Int64", "Label", "Name", "Text", "is_text",
]


INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1

Int64 = Annotated[StrictInt, Field(ge=-(2**63), le=INT64_MAX)]
"""A JSON integer in the int64 range; floats, numeric strings and booleans are rejected."""

Int32 = Annotated[StrictInt, Field(ge=-(2**31), le=INT32_MAX)]
"""A JSON integer in the int32 range (quantities, covers, x100 percentages)."""


_NO_NUL = r"^[^\x00]*$"

Text = Annotated[str, StringConstraints(pattern=_NO_NUL)]
"""Unicode text without NUL (no lone surrogates either)."""

Id = Annotated[str, StringConstraints(pattern=_NO_NUL, max_length=64)]
"""An id the EPOS assigns or the menu defines (orders, tables, areas, waiters, parties, PLUs)."""

_NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"

DojoId = Annotated[str, StringConstraints(pattern=_NOT_BLANK, max_length=128)]
"""An id Dojo assigns and the EPOS keys on (payment intents, locks, Dojo's order/party/reservation
ids, events): not blank, or every blank one would be the same key."""

Name = Annotated[str, StringConstraints(pattern=_NO_NUL, max_length=200)]
"""A name shown to people (an item, a party, a table)."""

Label = Annotated[str, StringConstraints(pattern=_NO_NUL, max_length=100)]
"""A short label (a reference, a display name, a discount code)."""


def is_text(value: str) -> bool:
    """Whether ``value`` is what :data:`Text` accepts: no NUL, no lone surrogate."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _not_a_number(value: Any) -> Any:
    if isinstance(value, bool | int | float):
        raise ValueError("a date-time must be an ISO 8601 string, not a number")
    return value


def _in_utc_range(value: datetime) -> datetime:
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("date-time leaves the years 1..9999 once converted to UTC") from None
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_not_a_number), AfterValidator(_in_utc_range)]
"""An aware date-time, given as a string, representable in UTC."""
