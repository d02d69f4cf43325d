"""The Faults page: an account's faults on demand, with forms to add and clear them.

The same book as the platform API (``/epos-tester-tool/faults``) and ``dojo-epos faults``: a fault
added here is shared by every worker and acts on the next matching call. A fault the book refuses
re-shows the form with the book's message (naming the field), status 400, nothing changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dojo_epos.contract.capabilities import CATALOGUE
from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.fault_book import FaultBook
from dojo_epos.platform.faults import NOT_ACTED_ON, Fault, FaultError, FaultKind

from .web import BASE, FormError, quote_token, read_form, render

if TYPE_CHECKING:
    from .routes import Dashboard

__all__ = ["FaultPages"]

#: The form's number fields (named as in the API, camelCase) and how each is read.
_NUMBERS = {"delay": float, "delayMax": float, "closeCode": int, "status": int, "times": int}


def fault_from_form(form: dict[str, str]) -> Fault:
    """The fault a submitted form asks for; FaultError naming the field otherwise."""
    body: dict[str, Any] = {"kind": form.get("kind", "").strip()}
    capability = form.get("capability", "").strip()
    if capability:
        body["capability"] = capability
    for name, parse in _NUMBERS.items():
        text = form.get(name, "").strip()
        if not text:
            continue
        try:
            body[name] = parse(text)
        except ValueError:
            raise FaultError(f"{name}: {'an integer' if parse is int else 'a number'}, "
                             f"not {text!r}") from None
    return Fault.from_wire(body)


class FaultPages:
    def __init__(self, dashboard: Dashboard) -> None:
        self.d = dashboard

    @property
    def book(self) -> FaultBook:
        return self.d.invoker.faults

    async def _page(self, scope: Scope, error: str | None = None,
                    values: dict[str, str] | None = None, status: int = 200) -> Response:
        return render("faults.html", status=status, scope=scope, error=error,
                      values=values or {}, faults=await self.book.listed(scope),
                      kinds=[k.value for k in FaultKind],
                      not_acted_on={k.value for k in NOT_ACTED_ON},
                      capabilities=[c.name for c in CATALOGUE])

    def _back(self, scope: Scope) -> Response:
        return RedirectResponse(f"{BASE}/faults?scope={quote_token(scope)}", status_code=303)

    async def page(self, request: Request) -> Response:
        scope = await self.d._scope_or_picker(request, "/faults")
        if isinstance(scope, Response):
            return scope
        return await self._page(scope)

    async def _form(self, request: Request, scope: Scope) -> dict[str, str] | Response:
        try:
            return await read_form(request)
        except FormError as exc:
            return render("message.html", status=exc.status, scope=scope, title="Refused",
                          message=exc.message)

    async def add(self, request: Request) -> Response:
        scope = await self.d._scope_or_picker(request, "/faults")
        if isinstance(scope, Response):
            return scope
        form = await self._form(request, scope)
        if isinstance(form, Response):
            return form
        try:
            await self.book.put(scope, fault_from_form(form))
        except FaultError as exc:
            return await self._page(scope, str(exc), form, status=400)
        return self._back(scope)

    async def clear(self, request: Request) -> Response:
        scope = await self.d._scope_or_picker(request, "/faults")
        if isinstance(scope, Response):
            return scope
        form = await self._form(request, scope)
        if isinstance(form, Response):
            return form
        await self.book.remove(scope, form.get("fault") or None)
        return self._back(scope)
