"""GetOrderBill: the order framed by a header and footer built from the merchant details.

Header: logo (if any), the merchant's name, address, phone, e-mail (if any) and tax number, a rule,
and a line naming the order. Footer: a rule, the merchant's URL with a QR code (if any), and the
merchant's closing text. The amounts are not repeated in the footer: a terminal prints them from
the bill's order (the stored, reconciled totals), so the bill always agrees with GetOrderById and
shows each total once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Row, select

from dojo_epos.contract import models as m
from dojo_epos.epos.reference import schema as s
from dojo_epos.epos.reference.order_reads import read_order

__all__ = ["build_bill", "format_money"]

_SYMBOLS = {"GBP": "£", "EUR": "€"}


def format_money(money: m.Money | None) -> str:
    """``Money(1234, GBP)`` -> ``£12.34`` (code instead of a symbol for other currencies)."""
    if money is None:
        return "-"
    sign = "-" if money.value < 0 else ""
    major, minor = divmod(abs(money.value), 100)
    symbol = _SYMBOLS.get(money.currency_code)
    amount = f"{major}.{minor:02d}"
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {money.currency_code}"


def _text(value: str, size: m.Size = m.Size.BODY, *, bold: bool | None = None,
          align: m.Align | None = None) -> m.TextLine:
    return m.TextLine(text=m.BillText(value=value, size=size, bold=bold, align=align))


def _rule() -> m.HorizontalLineLine:
    return m.HorizontalLineLine(horizontal_line=m.BillHorizontalLine(line=m.HorizontalLineStyle.SINGLE))


def header_lines(merchant: Row[Any] | None, order: m.Order) -> list[m.BillLine]:
    """Who the bill is from, and which order it is for."""
    lines: list[m.BillLine] = []
    if merchant is not None:
        if merchant.logo_svg:
            lines.append(m.LogoLine(logo=m.BillLogo(svg_image=merchant.logo_svg)))
        lines.append(m.MerchantNameLine(merchant_name=m.BillMerchantName(name=merchant.name)))
        lines.append(m.MerchantAddressLine(merchant_address=m.BillMerchantAddress(
            address_lines=list(merchant.address_lines), postcode=merchant.postcode)))
        if merchant.phone:
            lines.append(m.MerchantPhoneNumberLine(
                merchant_phone_number=m.BillMerchantPhoneNumber(phone_number=merchant.phone)))
        if merchant.email:
            lines.append(m.MerchantEmailAddressLine(
                merchant_email_address=m.BillMerchantEmailAddress(email_address=merchant.email)))
        if merchant.tax_number:
            lines.append(m.TaxNumberLine(tax_number=m.BillTaxNumber(
                name=merchant.tax_name or "Tax", number=merchant.tax_number)))
        lines.append(_rule())
    label = order.display_name or (order.details.dine_in and order.details.dine_in.table_id)
    lines.append(_text(f"Order {order.reference or order.id}" + (f" - {label}" if label else ""),
                       m.Size.HEADER2, bold=True))
    return lines


def footer_lines(merchant: Row[Any] | None, order: m.Order) -> list[m.BillLine]:
    """Where to find the restaurant online, and its closing words.

    No amounts: the terminal prints the order's lines and amounts between header and footer, so
    repeating them here would show every total twice.
    """
    lines: list[m.BillLine] = [_rule()]
    if merchant is not None:
        if merchant.url:
            lines.append(m.UrlLine(url=m.BillURL(url=merchant.url, show_qr=True, show_url=True)))
        if merchant.footer_text:
            lines.append(_text(merchant.footer_text, align=m.Align.CENTER))
    return lines


def build_bill(
    conn: Connection, order_id: str, *,
    read: Callable[[Connection, str], m.Order] = read_order,
) -> m.OrderBill:
    """The bill for ``order_id``; NotFound when there is no such order.

    ``read`` loads the order, first in the transaction (so it may be :class:`.OrderCache`'s).
    """
    order = read(conn, order_id)
    merchant = conn.execute(select(s.merchant).where(s.merchant.c.id == 1)).first()
    return m.OrderBill(
        header=m.BillSection(lines=header_lines(merchant, order)),
        order=order,
        footer=m.BillSection(lines=footer_lines(merchant, order)),
    )
