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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, bindparam, tuple_
from sqlalchemy.engine import Connection

from dojo_epos.contract import models as m
from dojo_epos.contract.errors import EposError
from dojo_epos.epos.reference.loop_reads import LoopConnection

__all__ = ["Page", "PagedQuery", "decode", "encode", "fetch_page"]

Key = tuple[int | str, ...]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of rows and the tokens to its neighbours."""

    rows: list[Any]  # SQLAlchemy rows, or the loop's (:mod:`.loop_reads`)
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


class PagedQuery:
    """A search's filtered query with its three page statements, each built once.

    The statements (the first page, the page after an edge, the page before one) take the page
    size and the edge key as bound parameters (``page_limit``, ``edge_0``...), so one object
    serves every call of a search of this shape: build it once (see :mod:`.search`) and SQLAlchemy
    neither rebuilds the statement nor recomputes its cache key per call, which cost more than
    running the query (SearchOrders' REST benchmark profile).
    """

    def __init__(self, query: Select[Any], key_columns: Sequence[ColumnElement[Any]],
                 kind: str) -> None:
        """``query`` is already filtered, not ordered, and selects the key columns by name."""
        self.kind = kind
        self.arity = len(key_columns)
        self.names = [c.key for c in key_columns if c.key is not None]
        key = _key_expr(key_columns)
        limit = bindparam("page_limit", type_=Integer)
        edges = [bindparam(f"edge_{i}", type_=c.type) for i, c in enumerate(key_columns)]
        edge = edges[0] if len(edges) == 1 else tuple_(*edges)
        self.first = query.order_by(*key_columns).limit(limit)
        self.after = query.where(key > edge).order_by(*key_columns).limit(limit)
        self.before = (query.where(key < edge).order_by(*(c.desc() for c in key_columns))
                       .limit(limit))

    def _key_of(self, row: Any) -> Key:
        return tuple(getattr(row, n) for n in self.names)

    def _token(self, row: Any) -> str:
        return encode(self.kind, self._key_of(row))

    def fetch(self, conn: Connection | LoopConnection, cursor: m.Cursor | None,
              params: Mapping[str, Any] | None = None) -> Page:
        """The page ``cursor`` asks for; ``params`` binds the query's own parameters."""
        cursor = cursor or m.Cursor()
        limit = cursor.effective_limit
        bound: dict[str, Any] = dict(params or {})
        bound["page_limit"] = limit + 1
        if cursor.before is not None:
            bound.update(self._edge(cursor.before))
            rows = list(conn.execute(self.before, bound).all())
            more = len(rows) > limit
            rows = rows[:limit][::-1]
            return Page(
                rows,
                before=self._token(rows[0]) if more else None,
                after=self._token(rows[-1]) if rows else None,
            )
        if cursor.after is not None:
            bound.update(self._edge(cursor.after))
            rows = list(conn.execute(self.after, bound).all())
        else:
            rows = list(conn.execute(self.first, bound).all())
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(
            rows,
            before=self._token(rows[0]) if cursor.after is not None and rows else None,
            after=self._token(rows[-1]) if more else None,
        )

    def _edge(self, token: str) -> dict[str, Any]:
        return {f"edge_{i}": v for i, v in enumerate(decode(self.kind, token, self.arity))}


def fetch_page(
    conn: Connection,
    query: Select[Any],
    key_columns: Sequence[ColumnElement[Any]],
    kind: str,
    cursor: m.Cursor | None,
) -> Page:
    """Run ``query`` (already filtered, not ordered) for the page ``cursor`` asks for.

    The query must select the key columns under their own names, so a row's key can be read back.
    A search called often builds a :class:`PagedQuery` once instead.
    """
    return PagedQuery(query, key_columns, kind).fetch(conn, cursor)
