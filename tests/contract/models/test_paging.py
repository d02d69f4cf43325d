"""The paging cursor and the pages of results."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field, ValidationError, create_model
from pydantic.json_schema import JsonSchemaMode

from dojo_epos.contract import models as m


@pytest.mark.parametrize(
    "bad",
    [{"before": "a", "after": "b"}, {"limit": 0}, {"limit": 101}, {"limit": 5.0}, {"limit": -1}],
)
def test_cursor_rejects_both_directions_and_out_of_range_limits(bad: dict[str, Any]) -> None:
    """spec defect #18: before/after exclusive; limit within 1..100."""
    with pytest.raises(ValidationError):
        m.Cursor.model_validate(bad)


def test_cursor_limit_defaults_are_documented() -> None:
    """A missing limit stays None on the wire and means DEFAULT_LIMIT."""
    assert m.Cursor().to_wire() == {}
    assert m.Cursor().effective_limit == m.DEFAULT_LIMIT == 50
    assert m.Cursor(limit=100).effective_limit == m.MAX_LIMIT


def test_paged_responses_always_send_data() -> None:
    """spec defect #11: an empty page still has ``data: []``."""
    for cls in (m.PagedOrdersResponse, m.PagedTablesResponse, m.PagedPartiesResponse,
                m.PagedReservationsResponse):
        assert cls().to_wire() == {"data": []}


def _hand_written_page(name: str, doc: str, item: type[m.WireModel]) -> type[m.WireModel]:
    """The page class as it was written before the generic ``Page``: three fields, by hand."""
    return create_model(
        name,
        __base__=m.WireModel,
        __doc__=doc,
        data=(list[item], Field(default_factory=list)),  # type: ignore[valid-type]
        before=(m.Text | None, None),
        after=(m.Text | None, None),
    )


@pytest.mark.parametrize(
    ("page", "item"),
    [
        (m.PagedOrdersResponse, m.Order),
        (m.PagedTablesResponse, m.Table),
        (m.PagedPartiesResponse, m.Party),
        (m.PagedReservationsResponse, m.Reservation),
    ],
)
@pytest.mark.parametrize("mode", ["validation", "serialization"])
def test_generic_page_generates_the_same_schema_as_a_hand_written_page(
    page: type[m.WireModel], item: type[m.WireModel], mode: JsonSchemaMode
) -> None:
    """One generic ``Page[T]`` for the four pages changes nothing in the JSON schema pydantic writes."""
    assert page.__doc__ is not None
    by_hand = _hand_written_page(page.__name__, page.__doc__, item)
    assert page.model_json_schema(mode=mode) == by_hand.model_json_schema(mode=mode)
    assert issubclass(page, m.Page)
