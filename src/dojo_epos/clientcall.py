"""One platform API call described without I/O, shared by the clients (:mod:`dojo_epos.client`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["Call"]

T = TypeVar("T")


@dataclass(frozen=True)
class Call(Generic[T]):
    """The request (method, path, JSON body, query, extra headers) and how to read a 2xx body."""

    method: str
    path: str
    parse: Callable[[Any], T]
    json: Any = None
    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] | None = None
