"""The flows the tester runs: each one exercises an EPOS the way a Dojo product would.

Names follow Dojo's tool: a flow is requested by its name (``Get Order``), its result is called
``Get Order through EPOS Data API``, and its first step checks the capabilities it needs are
registered, failing with Dojo's own two sentences when one is missing (domain notes §5).

Every step checks the contract (the invoker validates each reply against our models, so a reply that
breaks the schema fails the step naming the field) *and* the business rule (ids match, filters hold,
amounts add up, a retried payment is counted once).
"""

from __future__ import annotations

from typing import Any

from ..engine import FlowDef
from .bookings import BOOKINGS
from .certification import CERTIFICATION
from .duplicate_delivery import DUPLICATE_DELIVERY
from .locking import LOCK_ORDER
from .lost_reply import LOST_REPLY
from .order_and_pay import ORDER_AND_PAY
from .orders import CANCEL_ORDER, GET_BILL, GET_ORDER, LIST_AREAS, SEARCH_ORDERS, SEARCH_TABLES
from .pay_at_table import PAY_AT_TABLE
from .refunds_webhooks import PAYMENT_FLOWS
from .resilience import RESILIENCE
from .slow_network import SLOW_NETWORK
from .sockets import SOCKET_RESILIENCE

__all__ = ["FLOWS", "SOCKET_RESILIENCE", "flow_by_name", "missing_params"]

FLOWS: tuple[FlowDef, ...] = (
    GET_ORDER, SEARCH_ORDERS, SEARCH_TABLES, LIST_AREAS, GET_BILL, CANCEL_ORDER, LOCK_ORDER,
    PAY_AT_TABLE, ORDER_AND_PAY, BOOKINGS, CERTIFICATION, *PAYMENT_FLOWS,
    *SOCKET_RESILIENCE, LOST_REPLY, DUPLICATE_DELIVERY, SLOW_NETWORK, RESILIENCE,
)

_BY_NAME = {f.name: f for f in FLOWS}


def flow_by_name(name: str) -> FlowDef | None:
    """The flow with this request name (exact, as Dojo's tool expects), if any."""
    return _BY_NAME.get(name)


def missing_params(flow: FlowDef, params: dict[str, Any]) -> list[str]:
    """Required params that are absent or empty."""
    return [p.name for p in flow.params if p.required and params.get(p.name) in (None, "")]

