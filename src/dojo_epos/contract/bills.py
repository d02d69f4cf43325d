"""Printable bill lines (GetOrderBill): one payload class and one line class per line kind.

On the wire a bill line is ``{"lineType": "<Kind>", "<kind>": {...payload...}}``. The REST contract
names the payloads ``BillText``, ``BillURL`` and so on, the WebSocket contract ``Text``, ``Url``...;
the shapes are the same except for the URL flags (spec defect #13), so each kind is modelled once.
``BillLine`` is the union of the line classes, told apart by ``lineType``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    StrictBool,
    model_serializer,
)

from dojo_epos.contract.bounds import Text
from dojo_epos.contract.wire import WS, WireModel, transport_of

__all__ = [
    "Align",
    "BillHorizontalLine",
    "BillImage",
    "BillLine",
    "BillLineType",
    "BillLogo",
    "BillMerchantAddress",
    "BillMerchantEmailAddress",
    "BillMerchantName",
    "BillMerchantPhoneNumber",
    "BillSection",
    "BillTaxNumber",
    "BillText",
    "BillURL",
    "HorizontalLineLine",
    "HorizontalLineStyle",
    "ImageLine",
    "LogoLine",
    "MerchantAddressLine",
    "MerchantEmailAddressLine",
    "MerchantNameLine",
    "MerchantPhoneNumberLine",
    "Size",
    "TaxNumberLine",
    "TextLine",
    "UrlLine",
]


class Align(StrEnum):
    """Horizontal alignment of a text or image line."""

    CENTER = "Center"
    LEFT = "Left"
    RIGHT = "Right"


class Size(StrEnum):
    """Text size on the printed bill."""

    BODY = "Body"
    HEADER1 = "Header1"
    HEADER2 = "Header2"


class HorizontalLineStyle(StrEnum):
    """A single or double rule across the bill."""

    SINGLE = "Single"
    DOUBLE = "Double"


class BillLineType(StrEnum):
    """The kind of a bill line; selects which payload field the line carries."""

    IMAGE = "Image"
    LOGO = "Logo"
    MERCHANT_ADDRESS = "MerchantAddress"
    MERCHANT_EMAIL_ADDRESS = "MerchantEmailAddress"
    MERCHANT_NAME = "MerchantName"
    MERCHANT_PHONE_NUMBER = "MerchantPhoneNumber"
    TEXT = "Text"
    URL = "URL"
    HORIZONTAL_LINE = "HorizontalLine"
    TAX_NUMBER = "TaxNumber"


# --- payloads -------------------------------------------------------------------------------------


class BillImage(WireModel):
    """An SVG image, optionally aligned."""

    svg_image: Text
    align: Align | None = None


class BillLogo(WireModel):
    """The merchant logo as SVG."""

    svg_image: Text


class BillMerchantAddress(WireModel):
    """The merchant's postal address."""

    address_lines: list[Text]
    postcode: Text


class BillMerchantEmailAddress(WireModel):
    """The merchant's e-mail address."""

    email_address: Text


class BillMerchantName(WireModel):
    """The merchant's trading name."""

    name: Text


class BillMerchantPhoneNumber(WireModel):
    """The merchant's phone number, as printed."""

    phone_number: Text


class BillText(WireModel):
    """A line of text with a size, and optional alignment and bold face."""

    value: Text
    size: Size
    align: Align | None = None
    bold: StrictBool | None = None


class BillURL(WireModel):
    """A URL, printed as text and/or a QR code.

    The flags are ``showQr``/``showUrl`` in REST and ``showQR``/``showURL`` in WebSocket messages
    (spec defect #13): both spellings are accepted on input, and output uses the spelling of the
    transport in the serialization context (REST by default).
    """

    url: Text
    show_qr: StrictBool | None = Field(
        default=None,
        validation_alias=AliasChoices("showQr", "showQR", "show_qr"),
        serialization_alias="showQr",
    )
    show_url: StrictBool | None = Field(
        default=None,
        validation_alias=AliasChoices("showUrl", "showURL", "show_url"),
        serialization_alias="showUrl",
    )

    @model_serializer(mode="wrap")
    def _transport_casing(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> Any:
        data = handler(self)
        if isinstance(data, dict) and info.by_alias and transport_of(info) == WS:
            # spec defect #13: the WebSocket contract spells the flags showQR/showURL.
            for rest_name, ws_name in (("showQr", "showQR"), ("showUrl", "showURL")):
                if rest_name in data:
                    data[ws_name] = data.pop(rest_name)
        return data


class BillHorizontalLine(WireModel):
    """A horizontal rule."""

    line: HorizontalLineStyle | None = None


class BillTaxNumber(WireModel):
    """A tax registration number, e.g. name "VAT" and the number."""

    name: Text
    number: Text


# --- lines ----------------------------------------------------------------------------------------


class ImageLine(WireModel):
    """A bill line showing an image."""

    line_type: Literal["Image"] = "Image"
    image: BillImage


class LogoLine(WireModel):
    """A bill line showing the merchant logo."""

    line_type: Literal["Logo"] = "Logo"
    logo: BillLogo


class MerchantAddressLine(WireModel):
    """A bill line showing the merchant address."""

    line_type: Literal["MerchantAddress"] = "MerchantAddress"
    merchant_address: BillMerchantAddress


class MerchantEmailAddressLine(WireModel):
    """A bill line showing the merchant e-mail address."""

    line_type: Literal["MerchantEmailAddress"] = "MerchantEmailAddress"
    merchant_email_address: BillMerchantEmailAddress


class MerchantNameLine(WireModel):
    """A bill line showing the merchant name."""

    line_type: Literal["MerchantName"] = "MerchantName"
    merchant_name: BillMerchantName


class MerchantPhoneNumberLine(WireModel):
    """A bill line showing the merchant phone number."""

    line_type: Literal["MerchantPhoneNumber"] = "MerchantPhoneNumber"
    merchant_phone_number: BillMerchantPhoneNumber


class TextLine(WireModel):
    """A bill line of text."""

    line_type: Literal["Text"] = "Text"
    text: BillText


class UrlLine(WireModel):
    """A bill line with a URL and/or QR code."""

    line_type: Literal["URL"] = "URL"
    url: BillURL


class HorizontalLineLine(WireModel):
    """A bill line that is a horizontal rule."""

    line_type: Literal["HorizontalLine"] = "HorizontalLine"
    horizontal_line: BillHorizontalLine


class TaxNumberLine(WireModel):
    """A bill line showing a tax number."""

    line_type: Literal["TaxNumber"] = "TaxNumber"
    tax_number: BillTaxNumber


BillLine = Annotated[
    ImageLine
    | LogoLine
    | MerchantAddressLine
    | MerchantEmailAddressLine
    | MerchantNameLine
    | MerchantPhoneNumberLine
    | TextLine
    | UrlLine
    | HorizontalLineLine
    | TaxNumberLine,
    Field(discriminator="line_type"),
]
"""One printed line; ``lineType`` says which payload field it carries."""


class BillSection(WireModel):
    """The header or footer of a bill: lines printed in order."""

    lines: list[BillLine]
