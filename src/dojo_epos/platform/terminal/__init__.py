"""The virtual card terminal: a Dojo card machine's Pay at Table, driven from the dashboard.

:mod:`.device` makes the calls (through the invoker, like Dojo's products); :mod:`.screen` holds the
pure rules (labels, money, splits, messages); :mod:`.bill` lists a bill so that it adds up. The
dashboard's pages for it are in :mod:`dojo_epos.platform.dashboard`.
"""

from .bill import BillLine, BillScreen, Extra, bill_screen
from .device import (
    LABEL_LIMIT,
    OrderChoice,
    PartResult,
    PayRequest,
    Receipt,
    TableChoice,
    TerminalError,
    VirtualTerminal,
    bill_text,
    currency_of,
    due_of,
    explain_failure,
    format_money,
    order_labels,
    parse_amount,
)

__all__ = [
    "BillLine",
    "BillScreen",
    "Extra",
    "LABEL_LIMIT",
    "OrderChoice",
    "PartResult",
    "PayRequest",
    "Receipt",
    "TableChoice",
    "TerminalError",
    "VirtualTerminal",
    "bill_screen",
    "bill_text",
    "currency_of",
    "due_of",
    "explain_failure",
    "format_money",
    "order_labels",
    "parse_amount",
]
