"""Printable bill lines."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dojo_epos.contract import models as m


def test_bill_url_accepts_both_flag_casings() -> None:
    """spec defect #13: showQr/showUrl and showQR/showURL both parse."""
    rest = m.BillURL.model_validate({"url": "u", "showQr": True, "showUrl": False})
    ws = m.BillURL.model_validate({"url": "u", "showQR": True, "showURL": False})
    assert rest == ws == m.BillURL(url="u", show_qr=True, show_url=False)


def test_bill_lines_are_told_apart_by_line_type() -> None:
    """A line's lineType selects its payload; a missing payload or unknown type is refused."""
    section = m.BillSection.model_validate(
        {"lines": [{"lineType": "TaxNumber", "taxNumber": {"name": "VAT", "number": "1"}}]}
    )
    assert isinstance(section.lines[0], m.TaxNumberLine)
    for bad in ({"lineType": "Text", "image": {"svgImage": "x"}}, {"lineType": "Barcode"}):
        with pytest.raises(ValidationError):
            m.BillSection.model_validate({"lines": [bad]})
