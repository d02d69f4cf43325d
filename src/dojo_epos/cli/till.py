"""``dojo-epos till``: till actions a member of staff would take on the reference EPOS."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dojo_epos.cli.common import ApiKey, ApiUrl, EposDb, Reseller, SoftwareHouse, fail, out, run
from dojo_epos.settings import DEFAULT_API_URL, default_epos_db

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help="Till actions a member of staff would take.")


def _print_order(order: Any) -> None:
    from dojo_epos.epos.reference.till_text import order_text

    for text in order_text(order):
        out.print(text, markup=False, highlight=False, soft_wrap=True)


def _till(work: Any, db: str | None) -> Any:
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
    return result


def _lines(items: list[str]) -> list[Any]:
    """``PLU``, ``PLU*2`` or ``PLU*2+MOD-A+MOD-B`` into order lines (an unknown name is named)."""
    from rich.markup import escape

    from dojo_epos.epos.reference.till_text import MenuLineError, parse_lines

    try:
        return parse_lines(items)
    except MenuLineError as exc:  # what was typed is shown as typed, never read as markup
        raise fail(f"not a menu line: {escape(str(exc))}") from None


@app.command("list")
def till_list(db: EposDb = None, table: Annotated[str | None, typer.Option()] = None,
              show_all: Annotated[bool, typer.Option(
                  "--all", help="Also paid and closed orders.")] = False) -> None:
    """Open orders, newest first (optionally on one table); paid ones only with --all."""
    from dojo_epos.epos.reference import till
    from dojo_epos.epos.reference.till_text import is_open

    async def work(d: Any) -> list[Any]:
        found = await till.list_orders(d, table_id=table, open_only=not show_all)
        return found if show_all else [o for o in found if is_open(o)]

    if not _till(work, db):
        where = f" on table {table}" if table else ""
        out.print(f"no {'' if show_all else 'open '}orders{where}", markup=False)


@app.command("menu")
def till_menu() -> None:
    """The menu: PLUs, names and prices, and the modifiers lines can take."""
    from dojo_epos.epos.reference.till_text import menu_text

    for text in menu_text():
        out.print(text, markup=False, highlight=False, soft_wrap=True)


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




@app.command("refund")
def till_refund(
    order_id: str,
    amount: Annotated[str, typer.Argument(help="How much to refund, e.g. 2.00.")],
    api_key: ApiKey,
    software_house_id: SoftwareHouse,
    payment: Annotated[str | None, typer.Option(
        "--payment", help="The payment intent to refund (default: the order's last card payment).")]
    = None,
    reason: Annotated[str | None, typer.Option(help="Why (refundReason).")] = None,
    idempotency_key: Annotated[str | None, typer.Option(
        "--idempotency-key", help="Reuse a key to make a retry safe (default: a new one).")] = None,
    api_url: ApiUrl = DEFAULT_API_URL,
    reseller_id: Reseller = None,
    db: EposDb = None,
) -> None:
    """Refund a card payment of an order through the Dojo API, as a till does."""
    from dojo_epos.cli.payments import minor_units
    from dojo_epos.cli.register import api_call, client_for
    from dojo_epos.contract.errors import EposError
    from dojo_epos.epos.reference import till
    from dojo_epos.epos.reference.orders import load_order

    minor = minor_units(amount)

    async def read(database: Any) -> Any:
        async with database.read() as conn:
            return await load_order(conn, order_id)

    async def main() -> Any:
        database = await till.connect(db or default_epos_db())
        try:
            return await read(database)
        finally:
            await database.dispose()

    try:
        order = run(main())
    except EposError as exc:
        raise fail(f"{exc.error_type.value}: {exc.debug_message}", 1) from None
    intents = [p.payment_intent_id for p in order.payments]
    if not intents:
        raise fail(f"order {order_id} has no card payment to refund", 1)
    if payment is not None and payment not in intents:
        raise fail(f"order {order_id} has no payment {payment}; it has {', '.join(intents)}", 1)
    chosen = payment or intents[-1]
    with client_for(api_url, api_key, software_house_id, reseller_id) as client:
        refund = api_call(lambda: client.refund_payment_intent(
            chosen, minor, idempotency_key=idempotency_key, reason=reason))
        intent = api_call(lambda: client.get_payment_intent(chosen))
    currency = intent.total_amount.currency_code
    out.print(f"order {order_id}: refunded {minor / 100:.2f} {currency} of payment {chosen} "
              f"(refund {refund.refund_id}); the intent shows {intent.refunded_amount / 100:.2f} of "
              f"{intent.total_amount.value / 100:.2f} {currency} refunded, status "
              f"{intent.status.value}", highlight=False)
