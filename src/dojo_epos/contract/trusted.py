"""Contract models from values already known to be valid, without validating them again.

Validation is what a model costs: GetOrderById built about sixteen models per order (every Money,
line and detail), and validating them was a third of an uncached read (the REST benchmark's
profile); an order cache hit validated the whole tree again to hand out a fresh copy.

- :func:`trusted` builds a model from field values that came from where they were validated
  before: the reference EPOS's own rows (every one was checked by the contract on its way in).
  The caller passes Python values of the field's type (enums as enums, aware datetimes, nested
  models built the same way); fields left out get their defaults.
- :func:`clone` copies a model tree (models, and lists of them) so that changing the copy cannot
  change the original: what a cache hands out.

Both set exactly what :meth:`pydantic.BaseModel.model_construct` sets, without its per-call walk
over the field definitions; a model so built serializes like a validated one.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["clone", "trusted"]

M = TypeVar("M", bound=BaseModel)

#: Per model class: (field name, default, default factory) for every field, in declaration order.
_DEFAULTS: dict[type[BaseModel], tuple[tuple[str, Any, Any], ...]] = {}
_set = object.__setattr__


def _defaults(cls: type[BaseModel]) -> tuple[tuple[str, Any, Any], ...]:
    found = _DEFAULTS.get(cls)
    if found is None:
        found = _DEFAULTS[cls] = tuple(
            (name, info.default, info.default_factory) for name, info in cls.model_fields.items())
    return found


def trusted(cls: type[M], **fields: Any) -> M:
    """A ``cls`` holding ``fields`` as given (not validated); missing fields get their defaults."""
    values: dict[str, Any] = {}
    for name, default, factory in _defaults(cls):
        if name in fields:
            values[name] = fields[name]
        elif factory is not None:
            values[name] = factory()
        else:
            values[name] = default
    model = cls.__new__(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", set(fields))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


def clone(model: M) -> M:
    """A copy of ``model`` sharing no model or list with it (other values are immutable)."""
    cls = type(model)
    copy = cls.__new__(cls)
    _set(copy, "__dict__", {name: _clone_value(value) for name, value in model.__dict__.items()})
    _set(copy, "__pydantic_fields_set__", set(model.__pydantic_fields_set__))
    _set(copy, "__pydantic_extra__",
         None if model.__pydantic_extra__ is None else dict(model.__pydantic_extra__))
    _set(copy, "__pydantic_private__",
         None if model.__pydantic_private__ is None else dict(model.__pydantic_private__))
    return copy


def _clone_value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return clone(value)
    if isinstance(value, list):
        return [_clone_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _clone_value(v) for k, v in value.items()}
    return value
