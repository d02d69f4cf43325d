"""Models of the EPOS tester tool API (``/epos-tester-tool/flows``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StrictBool, field_validator

from dojo_epos.contract.bounds import Instant, Text, is_text
from dojo_epos.contract.wire import WireModel

__all__ = [
    "LEFT_OUT_PREFIX",
    "NOT_OVER_REST_STEP",
    "NOT_TARGETED_STEP",
    "REPLY_LINE",
    "REQUEST_LINE",
    "FlowDescription",
    "FlowResult",
    "Param",
    "RunFlowRequest",
    "SingleCallRequest",
    "Status",
    "StepResult",
]

#: Our Certification's informational step naming the sections of products not targeted, one per
#: line, each line starting with :data:`LEFT_OUT_PREFIX` (JUnit reports them as ``<skipped/>``).
NOT_TARGETED_STEP = "Products not targeted"
LEFT_OUT_PREFIX = "left out: "
#: The Resilience flow's informational step (``Resilience: Not over REST`` in Certification) naming,
#: on :data:`LEFT_OUT_PREFIX` lines, the resilience flows a REST run cannot run (they need a socket).
NOT_OVER_REST_STEP = "Not over REST"

_UUID_PATTERN = r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$"


class Status(StrEnum):
    """Outcome of a flow or of one of its steps."""

    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    TIMED_OUT = "TIMED_OUT"
    IN_PROGRESS = "IN_PROGRESS"


class Param(WireModel):
    """A parameter a flow takes; ``default`` is a string whatever the type (spec defect #39)."""

    name: Text
    type: Text
    required: StrictBool
    description: Text
    default: Text | None = None


class FlowDescription(WireModel):
    """A flow the tester can run, and its parameters."""

    name: Text
    params: list[Param] = Field(default_factory=list)


class RunFlowRequest(WireModel):
    """POST /flows body: the flow's name and its parameter values."""

    flow: Text
    params: dict[Text, Any] = Field(default_factory=dict)

    @field_validator("params")
    @classmethod
    def _values_are_text(cls, params: dict[str, Any]) -> dict[str, Any]:
        # The values reach EPOSes and the flow's report: the same text rule as every field.
        for name, value in params.items():
            if isinstance(value, str) and not is_text(value):
                raise ValueError(f"params.{name}: text must not hold NUL or a lone surrogate")
        return params


class SingleCallRequest(WireModel):
    """POST /calls body (ours; Dojo's tool has no such route): one capability, its params, a transport.

    ``capability`` is any catalogue name or alias; ``params`` are the WebSocket-shaped params (the
    REST path and body are made from them); ``transport`` is ``rest``, ``ws`` or absent (the default
    rule of the tester's runs).
    """

    capability: str
    params: dict[str, Any] = Field(default_factory=dict)
    transport: str | None = None


#: The detail lines of a single call's step start with these (the CLI reads them back).
REQUEST_LINE, REPLY_LINE = "request: ", "reply: "


class StepResult(WireModel):
    """One step of a flow run, with human-readable details."""

    name: Text
    status: Status
    started_at: Instant
    finished_at: Instant | None = None
    additional_information: list[Text] = Field(default_factory=list)


class FlowResult(WireModel):
    """A flow run: overall status and its steps. ``flowID`` keeps the spec's spelling."""

    flow_id: Annotated[str, Field(pattern=_UUID_PATTERN)] = Field(alias="flowID")
    flow_name: Text
    status: Status
    started_at: Instant
    finished_at: Instant | None = None
    steps: list[StepResult] = Field(default_factory=list)
