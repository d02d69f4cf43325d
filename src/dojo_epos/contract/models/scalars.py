"""Constants and constrained scalar types shared by the contract models."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt, StringConstraints

__all__ = [
    "CurrencyCode",
    "DEFAULT_LIMIT",
    "Int64",
    "MAX_LIMIT",
    "SUPPORTED_CURRENCIES",
    "TableIds",
]


SUPPORTED_CURRENCIES: frozenset[str] = frozenset({"GBP", "EUR"})
"""Currencies Dojo accepts today. Money itself only checks the code's shape; callers check this."""


DEFAULT_LIMIT = 50
"""Page size used when a search omits ``cursor.limit`` (no default in the spec: spec defect #18)."""


MAX_LIMIT = 100
"""Largest page size a search may ask for."""


Int64 = Annotated[StrictInt, Field(ge=-(2**63), le=2**63 - 1)]
"""A JSON integer in the int64 range; floats, numeric strings and booleans are rejected."""


# spec defect #16: the schema allows 1-10 characters; ISO 4217 alpha-3 is what is meant.
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
"""An ISO 4217 alpha-3 code: exactly three upper-case letters."""


# spec defect #14: some schemas constrain tableIds with minLength, which does nothing on arrays.
TableIds = Annotated[list[str], Field(min_length=1)]
"""At least one table id."""
