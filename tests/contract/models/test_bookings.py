"""Parties and reservations."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dojo_epos.contract import models as m
from tests.contract.models.factories import (
    create_party_request,
    create_reservation_request,
    party,
    reservation,
    update_party_request,
    update_reservation_request,
)


@pytest.mark.parametrize(
    "model",
    [m.Party, m.CreatePartyRequest, m.UpdatePartyRequest, m.Reservation,
     m.CreateReservationRequest, m.UpdateReservationRequest],
)
def test_empty_table_ids_are_rejected(model: type[m.WireModel]) -> None:
    """spec defect #14: at least one table id everywhere."""
    good = {
        m.Party: party, m.CreatePartyRequest: create_party_request,
        m.UpdatePartyRequest: update_party_request, m.Reservation: reservation,
        m.CreateReservationRequest: create_reservation_request,
        m.UpdateReservationRequest: update_reservation_request,
    }[model]().to_wire()
    model.model_validate(good)
    with pytest.raises(ValidationError):
        model.model_validate({**good, "tableIds": []})
