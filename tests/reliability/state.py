"""A fingerprint of a database's whole content, to prove that rejected input changed nothing."""

from __future__ import annotations

import hashlib

from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncConnection

from dojo_epos.epos.reference.schema import metadata as reference_metadata


async def fingerprint(conn: AsyncConnection, metadata: MetaData = reference_metadata) -> str:
    """SHA-256 over every row of every table (ordered), plus the row counts."""
    digest = hashlib.sha256()
    for table in metadata.sorted_tables:
        rows = (await conn.execute(select(table))).all()
        lines = sorted(repr(tuple(row)) for row in rows)
        digest.update(f"{table.name}:{len(lines)}\n".encode())
        for line in lines:
            digest.update(line.encode())
    return digest.hexdigest()
