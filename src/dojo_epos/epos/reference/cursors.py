"""Opaque keyset cursors for every search (domain notes §3.5).

A search sorts by a key of one or more columns that is unique and stable (new rows sort last). A
cursor token is the key of a page's edge row, with the search kind, base64url-encoded: opaque to
Dojo, cheap to resume from (``WHERE key > :after ORDER BY key LIMIT n``, an index range scan at any
depth), and unaffected by rows inserted elsewhere.

- ``after`` comes back only when more rows follow; ``before`` only when the page was not reached from
  the start (it was fetched with a cursor and is not empty).
- ``limit`` defaults to :data:`~dojo_epos.contract.models.DEFAULT_LIMIT` (50), at most 100 (checked by
  the ``Cursor`` model; spec defect #18).
- A token that is not one of ours, or that belongs to another kind of search, is InvalidRequest.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, tuple_
from sqlalchemy.engine import Connection, Row

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError

__all__ = ["Page", "decode", "encode", "fetch_page"]

Key = tuple[int | str, ...]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of rows and the tokens to its neighbours."""

    rows: list[Row[Any]]
    before: str | None
    after: str | None


def encode(kind: str, key: Key) -> str:
    """The opaque token for ``key`` in a search of ``kind``."""
    raw = json.dumps([kind, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(kind: str, token: str, arity: int) -> Key:
    """The key inside ``token``; InvalidRequest when it is not a ``kind`` cursor of ours."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise EposError.invalid_request("cursor is not a cursor this EPOS issued") from None
    if (
        not isinstance(data, list)
        or len(data) != arity + 1
        or data[0] != kind
        or not all(isinstance(v, int | str) and not isinstance(v, bool) for v in data[1:])
    ):
        raise EposError.invalid_request(f"cursor is not a {kind} cursor this EPOS issued")
    return tuple(data[1:])


def _key_expr(columns: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    return columns[0] if len(columns) == 1 else tuple_(*columns)


def _key_value(key: Key) -> Any:
    return key[0] if len(key) == 1 else tuple_(*key)


def fetch_page(
    conn: Connection,
    query: Select[Any],
    key_columns: Sequence[ColumnElement[Any]],
    kind: str,
    cursor: m.Cursor | None,
) -> Page:
    """Run ``query`` (already filtered, not ordered) for the page ``cursor`` asks for.

    The query must select the key columns under their own names, so a row's key can be read back.
    """
    cursor = cursor or m.Cursor()
    limit = cursor.effective_limit
    key = _key_expr(key_columns)
    names = [c.key for c in key_columns if c.key is not None]

    def key_of(row: Row[Any]) -> Key:
        return tuple(row._mapping[n] for n in names)

    if cursor.before is not None:
        edge = decode(kind, cursor.before, len(key_columns))
        stmt = query.where(key < _key_value(edge)).order_by(*(c.desc() for c in key_columns))
        rows = list(conn.execute(stmt.limit(limit + 1)).all())
        more = len(rows) > limit
        rows = rows[:limit][::-1]
        return Page(
            rows,
            before=encode(kind, key_of(rows[0])) if more else None,
            after=encode(kind, key_of(rows[-1])) if rows else None,
        )
    stmt = query
    if cursor.after is not None:
        edge = decode(kind, cursor.after, len(key_columns))
        stmt = stmt.where(key > _key_value(edge))
    rows = list(conn.execute(stmt.order_by(*key_columns).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        rows,
        before=encode(kind, key_of(rows[0])) if cursor.after is not None and rows else None,
        after=encode(kind, key_of(rows[-1])) if more else None,
    )
