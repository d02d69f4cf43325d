"""Showing tester flow results to people and to CI: one line per step, JUnit XML, exit codes.

Works with any :class:`~dojo_epos.client.Client`, so the same output comes from real Dojo's tester
and from the local one.

Exit codes of ``dojo-epos flows run --wait`` and ``dojo-epos call`` (README "Certifying your EPOS"):
0 the run is SUCCESS; 1 FAILURE; 2 a usage or connection error (bad option, request refused by the
platform, platform unreachable: nothing ran); 3 TIMED_OUT (the EPOS did not answer in time, or the
run had not ended within ``--timeout``).
"""

from __future__ import annotations

import io
import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Protocol

from dojo_epos.contract.tester_models import (
    LEFT_OUT_PREFIX,
    NOT_OVER_REST_STEP,
    NOT_TARGETED_STEP,
    REPLY_LINE,
    REQUEST_LINE,
    FlowResult,
    Status,
    StepResult,
)

__all__ = [
    "EXIT_FAILURE",
    "EXIT_SUCCESS",
    "EXIT_TIMED_OUT",
    "EXIT_USAGE",
    "call_lines",
    "dashboard_url",
    "exit_code",
    "junit_bytes",
    "step_line",
    "step_lines",
    "to_junit",
    "wait_for",
    "write_junit",
]

EXIT_SUCCESS, EXIT_FAILURE, EXIT_USAGE, EXIT_TIMED_OUT = 0, 1, 2, 3

#: Detail lines that say what was sent or got, not why a step ended as it did.
_CHATTER = ("sent ", "got ", "transport: ", "request: ", "reply: ", "duration: ")

class _ResultSource(Protocol):
    def get_flow_result(self, flow_id: str) -> FlowResult: ...


def dashboard_url(api_url: str, flow_id: str) -> str | None:
    """The run's page on the local platform's dashboard (None for Dojo's own API, which has none)."""
    from dojo_epos.settings import DEFAULT_API_URL

    base = api_url.rstrip("/")
    if base == DEFAULT_API_URL.rstrip("/"):
        return None
    return f"{base}/dashboard/flows/{flow_id}"


def call_lines(result: FlowResult, *, verbose: bool = False) -> list[str]:
    """A single call's result for people: the step's line, then request and reply as indented JSON."""
    lines = step_lines(result)
    for step in result.steps:
        for line in step.additional_information:
            for prefix in (REQUEST_LINE, REPLY_LINE):
                if line.startswith(prefix):
                    try:
                        pretty = json.dumps(json.loads(line[len(prefix):]), indent=2, ensure_ascii=False)
                    except ValueError:
                        pretty = line[len(prefix):]
                    lines += [prefix.rstrip(), *pretty.splitlines()]
                    break
            else:
                if verbose or not line.startswith(_CHATTER) or line.startswith("duration: "):
                    lines.append(line)
    return lines


def exit_code(status: Status) -> int:
    """The documented exit code for a run that ended (or not) with ``status``."""
    return {Status.SUCCESS: EXIT_SUCCESS, Status.TIMED_OUT: EXIT_TIMED_OUT,
            Status.IN_PROGRESS: EXIT_TIMED_OUT}.get(status, EXIT_FAILURE)


def _seconds(step: StepResult | FlowResult) -> float | None:
    if step.finished_at is None:
        return None
    return (step.finished_at - step.started_at).total_seconds()


def _reason(step: StepResult, width: int) -> str:
    lines = [line for line in step.additional_information if not line.startswith(_CHATTER)]
    if step.status is not Status.SUCCESS:
        # a failure's own lines come last (Dojo's first sentence names what is missing)
        failing = [line for line in lines if line.endswith(" method not found")]
        text = failing[0] if failing else (lines[-1] if lines else "")
    else:
        text = lines[-1] if lines else ""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def step_line(step: StepResult, *, width: int = 100) -> str:
    """``STATUS     0.012s  name  -  reason`` (the reason only when there is one)."""
    took = _seconds(step)
    duration = f"{took:7.3f}s" if took is not None else "      -  "
    reason = _reason(step, width)
    return f"{step.status.value:<11} {duration}  {step.name}" + (f"  -  {reason}" if reason else "")


def step_lines(result: FlowResult, *, verbose: bool = False) -> list[str]:
    """The whole result as text: a heading, one line per step, and with ``verbose`` each step's
    details as JSON under its line."""
    took = _seconds(result)
    lines = [f"{result.flow_name}: {result.status.value}"
             + (f" in {took:.3f}s" if took is not None else "") + f" (flow {result.flow_id})"]
    for step in result.steps:
        lines.append(step_line(step))
        if verbose:
            details = json.dumps(step.additional_information, indent=2, ensure_ascii=False)
            lines += ["    " + line for line in details.splitlines()]
    return lines


def wait_for(client: _ResultSource, flow_id: str, *, timeout: float = 600.0,
             interval: float = 0.25) -> FlowResult:
    """Poll the flow until it ends or ``timeout`` passes; returns its latest result."""
    deadline = time.monotonic() + timeout
    result = client.get_flow_result(flow_id)
    while result.status is Status.IN_PROGRESS and time.monotonic() < deadline:
        time.sleep(interval)
        result = client.get_flow_result(flow_id)
    return result


def _left_out(result: FlowResult) -> list[tuple[str, str]]:
    """Certification's sections of products not targeted, and the resilience flows a REST run
    cannot run: (test case name, message) of each JUnit ``<skipped/>``."""
    found: list[tuple[str, str]] = []
    for step in result.steps:
        if step.name == NOT_TARGETED_STEP:
            suffix, why = "not targeted", "product not targeted"
        elif step.name.endswith(NOT_OVER_REST_STEP):
            suffix, why = "not over REST", "not over REST (it needs a WebSocket)"
        else:
            continue
        for line in step.additional_information:
            if line.startswith(LEFT_OUT_PREFIX):
                left = line[len(LEFT_OUT_PREFIX):]
                found.append((f"{left.split(' (', 1)[0]}: {suffix}", f"{why}: {left}"))
    return found


def to_junit(result: FlowResult) -> ET.ElementTree[ET.Element]:
    """One test suite per flow, one test case per step; failed steps carry their details.

    A failed step is ``<failure>``; a timed-out (or unfinished) one ``<error>``; each section of a
    product that Certification did not target, and each resilience flow a REST run left out, is a
    test case of its own, ``<skipped/>``.
    """
    failures = sum(1 for s in result.steps if s.status is Status.FAILURE)
    errors = sum(1 for s in result.steps if s.status in (Status.TIMED_OUT, Status.IN_PROGRESS))
    skipped = _left_out(result)
    duration = 0.0
    if result.finished_at is not None:
        duration = (result.finished_at - result.started_at).total_seconds()
    suite = ET.Element("testsuite", name=result.flow_name, tests=str(len(result.steps) + len(skipped)),
                       failures=str(failures), errors=str(errors), skipped=str(len(skipped)),
                       time=f"{duration:.3f}",
                       timestamp=result.started_at.isoformat())
    ET.SubElement(ET.SubElement(suite, "properties"), "property", name="flowID",
                  value=result.flow_id)
    for step in result.steps:
        took = 0.0
        if step.finished_at is not None:
            took = (step.finished_at - step.started_at).total_seconds()
        case = ET.SubElement(suite, "testcase", classname=result.flow_name, name=step.name,
                             time=f"{took:.3f}")
        text = "\n".join(step.additional_information)
        if step.status is Status.FAILURE:
            ET.SubElement(case, "failure", message=(step.additional_information or ["failed"])[-1],
                          type="FAILURE").text = text
        elif step.status is not Status.SUCCESS:
            ET.SubElement(case, "error", message=step.status.value, type=step.status.value).text = text
        elif text:
            ET.SubElement(case, "system-out").text = text
    for name, message in skipped:
        case = ET.SubElement(suite, "testcase", classname=result.flow_name, name=name,
                             time="0.000")
        ET.SubElement(case, "skipped", message=message)
    return ET.ElementTree(suite)


def junit_bytes(result: FlowResult) -> bytes:
    """The JUnit file of a run, as ``flows run --junit`` writes it and the dashboard serves it."""
    tree = to_junit(result)
    ET.indent(tree)
    buffer = io.BytesIO()
    tree.write(buffer, encoding="utf-8", xml_declaration=True)
    return buffer.getvalue()


def write_junit(result: FlowResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(junit_bytes(result))
