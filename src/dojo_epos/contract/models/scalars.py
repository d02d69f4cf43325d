"""Constants and the scalar types of the contract models .

Money and counts use :mod:`dojo_epos.contract.bounds` (64-bit money, 32-bit counts, text without NUL or
lone surrogates, ids of bounded length, date-times representable in UTC).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from dojo_epos.contract.bounds import (
    INT32_MAX,
    INT64_MAX,
    DojoId,
    Id,
    Instant,
    Int32,
    Int64,
    Label,
    Name,
    Text,
)

__all__ = [
    "CurrencyCode",
    "DEFAULT_LIMIT",
    "DojoId",
    "INT32_MAX",
    "INT64_MAX",
    "Id",
    "Instant",
    "Int32",
    "Int64",
    "Label",
    "MAX_LIMIT",
    "Name",
    "SUPPORTED_CURRENCIES",
    "TableIds",
    "Text",
]


SUPPORTED_CURRENCIES: frozenset[str] = frozenset({"GBP", "EUR"})
"""Currencies Dojo accepts today. Money itself only checks the code's shape; callers check this."""


DEFAULT_LIMIT = 50
"""Page size used when a search omits ``cursor.limit`` (no default in the spec: spec defect #18)."""


MAX_LIMIT = 100
"""Largest page size a search may ask for."""


# spec defect #16: the schema allows 1-10 characters; ISO 4217 alpha-3 is what is meant.
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
"""An ISO 4217 alpha-3 code: exactly three upper-case letters."""


# spec defect #14: some schemas constrain tableIds with minLength, which does nothing on arrays.
TableIds = Annotated[list[Id], Field(min_length=1)]
"""At least one table id."""
