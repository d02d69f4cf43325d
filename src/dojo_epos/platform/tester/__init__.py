"""The EPOS tester tool, run locally: named flows that exercise an EPOS as Dojo's products do."""

from .engine import FlowDef, FlowInvoker, FlowRun, StepFailed, StepTimedOut, run_flow
from .flows import FLOWS, flow_by_name

__all__ = [
    "FLOWS",
    "FlowDef",
    "FlowInvoker",
    "FlowRun",
    "StepFailed",
    "StepTimedOut",
    "flow_by_name",
    "run_flow",
]
