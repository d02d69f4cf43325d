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

from typing import Annotated, Any, TypeVar, get_args, get_origin

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
    """A copy of ``model`` sharing no model, list or dict with it (other values are immutable)."""
    cls = type(model)
    values = dict(model.__dict__)
    for name in _deep_fields(cls):
        value = values.get(name)
        if value is not None:
            values[name] = _clone_value(value)
    copy = cls.__new__(cls)
    _set(copy, "__dict__", values)
    _set(copy, "__pydantic_fields_set__", set(model.__pydantic_fields_set__))
    extra, private = model.__pydantic_extra__, model.__pydantic_private__
    _set(copy, "__pydantic_extra__", None if extra is None else _clone_value(extra))
    _set(copy, "__pydantic_private__", None if private is None else _clone_value(private))
    return copy


#: Per model class: the fields whose type can hold a model, list or dict (the rest are copied
#: as they are: str, int, enums, datetimes).
_DEEP: dict[type[BaseModel], tuple[str, ...]] = {}


def _deep_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    found = _DEEP.get(cls)
    if found is None:
        found = _DEEP[cls] = tuple(
            name for name, info in cls.model_fields.items() if _may_hold_containers(info.annotation))
    return found


def _may_hold_containers(annotation: Any) -> bool:
    if annotation is Any:
        return True
    if isinstance(annotation, type):
        return issubclass(annotation, BaseModel | list | dict | set)
    origin = get_origin(annotation)
    if isinstance(origin, type) and issubclass(origin, list | dict | set):
        return True
    args = get_args(annotation)
    if origin is Annotated:
        args = args[:1]
    if not args:
        return True  # a typing form we do not know: copy it to be safe
    return any(_may_hold_containers(arg) for arg in args)


def _clone_value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return clone(value)
    if isinstance(value, list):
        return [_clone_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _clone_value(v) for k, v in value.items()}
    if isinstance(value, set):
        return {_clone_value(v) for v in value}
    return value
