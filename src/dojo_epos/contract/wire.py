"""The base class of every contract model, and how models become JSON.

Python attributes are snake_case; wire names are the contract's camelCase. Models tolerate unknown
fields on input (a newer peer may send more than we know) but only ever emit the fields the contract
defines. Serialization drops ``None`` so optional fields are omitted rather than sent as ``null``.

Some wire spellings differ between the REST and the WebSocket contract (spec defect #13), so
serialization takes a *transport*: ``model.to_wire("ws")`` or, equivalently,
``model.model_dump(mode="json", by_alias=True, exclude_none=True, context={"transport": "ws"})``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SerializationInfo
from pydantic.alias_generators import to_camel

__all__ = ["REST", "WS", "Transport", "WireModel", "dump", "to_wire", "transport_of"]

Transport = Literal["rest", "ws"]
REST: Transport = "rest"
WS: Transport = "ws"


class WireModel(BaseModel):
    """Base for contract models: camelCase on the wire, unknown input fields ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def to_wire(self, transport: Transport = REST) -> dict[str, Any]:
        """The JSON-ready dict for ``transport``: wire names, no ``None`` fields."""
        data: dict[str, Any] = self.model_dump(
            mode="json", by_alias=True, exclude_none=True, context={"transport": transport}
        )
        return data


def dump(model: BaseModel, transport: Transport = REST) -> Any:
    """Serialize any model (including ``RootModel`` lists) for ``transport``."""
    return model.model_dump(
        mode="json", by_alias=True, exclude_none=True, context={"transport": transport}
    )


def to_wire(model: BaseModel, transport: Transport = REST) -> dict[str, Any] | list[Any]:
    """Like :func:`dump`, typed for models that serialize to a JSON object or array."""
    data = dump(model, transport)
    if not isinstance(data, dict | list):
        raise TypeError(f"{type(model).__name__} does not serialize to a JSON object or array")
    return data


def transport_of(info: SerializationInfo) -> Transport:
    """The transport named in a serialization context; REST when none is given."""
    context = info.context
    if isinstance(context, dict) and context.get("transport") == WS:
        return WS
    return REST
