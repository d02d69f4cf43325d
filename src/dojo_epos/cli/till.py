"""``dojo-epos till``: till actions a member of staff would take on the reference EPOS."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dojo_epos.cli.common import EposDb, fail, out, run
from dojo_epos.settings import default_epos_db

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help="Till actions a member of staff would take.")


def _print_order(order: Any) -> None:
    total = order.total_amount.value if order.total_amount else 0
    paid = order.paid_amount.value if order.paid_amount else 0
    table = order.details.dine_in.table_id if order.details.dine_in else "-"
    out.print(f"{order.id}  table {table}  {order.status.value}  total {total}  paid {paid}  "
              f"payable {order.payable}")
    for n, item in enumerate(order.items):
        out.print(f"   [{n}] {item.quantity} x {item.name} ({item.plu}) @ {item.amount_per_item.value}")


def _till(work: Any, db: str | None) -> None:
    from dojo_epos.contract.errors import EposError
    from dojo_epos.epos.reference import till

    url = db or default_epos_db()

    async def main() -> Any:
        database = await till.connect(url)
        try:
            return await work(database)
        finally:
            await database.dispose()

    try:
        result = run(main())
    except EposError as exc:
        raise fail(f"{exc.error_type.value}: {exc.debug_message}", 1) from None
    for order in result if isinstance(result, list) else [result]:
        _print_order(order)


def _lines(items: list[str]) -> list[Any]:
    """``PLU``, ``PLU*2`` or ``PLU*2+MOD-A+MOD-B`` into order lines."""
    from dojo_epos.epos.reference.menu import line

    lines = []
    for spec in items:
        head, *mods = spec.split("+")
        plu, _, qty = head.partition("*")
        try:
            lines.append(line(plu, int(qty or 1), mods))
        except (KeyError, ValueError):
            raise fail(f"not a menu line: {spec!r} (PLU, PLU*QTY, PLU*QTY+MODIFIER)") from None
    return lines


@app.command("list")
def till_list(db: EposDb = None, table: Annotated[str | None, typer.Option()] = None) -> None:
    """Open orders (optionally on one table)."""
    from dojo_epos.epos.reference import till

    _till(lambda d: till.list_orders(d, table_id=table), db)


@app.command("open")
def till_open(
    table: Annotated[str, typer.Argument(help="Table id, e.g. T3.")],
    items: Annotated[list[str] | None, typer.Argument(help="Menu lines: PLU, PLU*2, PLU*2+MOD")] = None,
    waiter: Annotated[str | None, typer.Option()] = None,
    db: EposDb = None,
) -> None:
    """Open an order on a table."""
    from dojo_epos.epos.reference import till

    lines = _lines(items or [])
    _till(lambda d: till.open_order(d, table, waiter, lines), db)


@app.command("add")
def till_add(order_id: str, items: list[str], db: EposDb = None) -> None:
    """Add lines to an order (refused while Dojo holds its lock)."""
    from dojo_epos.epos.reference import till

    lines = _lines(items)
    _till(lambda d: till.add_items(d, order_id, lines), db)


@app.command("void")
def till_void(order_id: str, index: int, db: EposDb = None) -> None:
    """Void the line at INDEX (as listed) from an order."""
    from dojo_epos.epos.reference import till

    _till(lambda d: till.void_item(d, order_id, index), db)


@app.command("close")
def till_close(order_id: str, db: EposDb = None,
               cash: Annotated[bool, typer.Option("--cash", help="Settle what is due in cash.")] = False,
               ) -> None:
    """Close an order."""
    from dojo_epos.epos.reference import till

    _till(lambda d: till.close_order(d, order_id, settle_cash=cash), db)


