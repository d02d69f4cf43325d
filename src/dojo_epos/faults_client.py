"""The client's faults-on-demand calls (local platform only; mixed into
:class:`dojo_epos.client.Client` and :class:`~dojo_epos.client.AsyncClient`).

A fault is a plain dict in the API's camelCase shape (``id``, ``kind``, ``capability``, ``delay``,
``delayMax``, ``closeCode``, ``status``, ``times``, ``description``)::

    with Client(key, house, base_url="http://127.0.0.1:8000") as client:
        fault = client.add_fault("delay", delay=2.0, capability="GetOrderById", times=1)
        client.clear_faults(fault["id"])
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from dojo_epos.clientcall import Call

__all__ = ["AsyncFaultsMixin", "FaultCalls", "FaultsMixin"]

T = TypeVar("T")
PATH = "/epos-tester-tool/faults"


def _fault(body: Any) -> dict[str, Any]:
    return dict(body)


def _faults(body: Any) -> list[dict[str, Any]]:
    return [dict(f) for f in body["faults"]]


def _cleared(body: Any) -> int:
    return int(body["cleared"])


class FaultCalls:
    """The calls, described once for both clients."""

    @staticmethod
    def add(kind: str, params: dict[str, Any]) -> Call[dict[str, Any]]:
        body = {"kind": kind, **{k: v for k, v in params.items() if v is not None}}
        return Call("POST", PATH, _fault, json=body)

    @staticmethod
    def list() -> Call[list[dict[str, Any]]]:
        return Call("GET", PATH, _faults)

    @staticmethod
    def clear(fault_id: str | None) -> Call[int]:
        return Call("DELETE", PATH if fault_id is None else f"{PATH}/{fault_id}", _cleared)


class _Sends(Protocol):
    def _send(self, call: Call[T]) -> T: ...


class _SendsAsync(Protocol):
    async def _send(self, call: Call[T]) -> T: ...


class FaultsMixin:
    """Blocking faults calls."""

    def add_fault(self: _Sends, kind: str, *, capability: str | None = None,
                  delay: float | None = None, delay_max: float | None = None,
                  close_code: int | None = None, status: int | None = None,
                  times: int | None = None) -> dict[str, Any]:
        """Set a fault for this account; the stored fault (with its ``id``)."""
        return self._send(FaultCalls.add(kind, {
            "capability": capability, "delay": delay, "delayMax": delay_max,
            "closeCode": close_code, "status": status, "times": times}))

    def list_faults(self: _Sends) -> list[dict[str, Any]]:
        return self._send(FaultCalls.list())

    def clear_faults(self: _Sends, fault_id: str | None = None) -> int:
        """Clear one fault (or all of them); how many were cleared."""
        return self._send(FaultCalls.clear(fault_id))


class AsyncFaultsMixin:
    """Async faults calls (the same as :class:`FaultsMixin`)."""

    async def add_fault(self: _SendsAsync, kind: str, *, capability: str | None = None,
                        delay: float | None = None, delay_max: float | None = None,
                        close_code: int | None = None, status: int | None = None,
                        times: int | None = None) -> dict[str, Any]:
        return await self._send(FaultCalls.add(kind, {
            "capability": capability, "delay": delay, "delayMax": delay_max,
            "closeCode": close_code, "status": status, "times": times}))

    async def list_faults(self: _SendsAsync) -> list[dict[str, Any]]:
        return await self._send(FaultCalls.list())

    async def clear_faults(self: _SendsAsync, fault_id: str | None = None) -> int:
        return await self._send(FaultCalls.clear(fault_id))
