"""Handlers for the replay tests, loaded by ``dojo-epos replay --handler tests.replay_handlers:...``.

``same`` is the EPOS the recording was made against; ``changed`` is that EPOS after a change that
alters an order's total (the regression replay must catch).
"""

from __future__ import annotations

from dojo_epos.contract import models as m
from dojo_epos.epos.handler import RequestContext
from tests.platform.conftest import DemoHandler


class ChangedHandler(DemoHandler):
    async def get_order_by_id(self, params: m.OrderIdParams, ctx: RequestContext) -> m.Order:
        order = await super().get_order_by_id(params, ctx)
        return order.model_copy(update={"total_amount": m.Money(value=1300, currency_code="GBP")})


def same() -> DemoHandler:
    return DemoHandler()


def changed() -> DemoHandler:
    return ChangedHandler()
