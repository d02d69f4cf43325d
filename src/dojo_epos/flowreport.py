"""Showing tester flow results to people and to CI: a live step display and JUnit XML.

Works with any :class:`~dojo_epos.client.Client`, so the same output comes from real Dojo's tester
and from the local one.
"""

from __future__ import annotations

import io
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Protocol

from rich.console import Console
from rich.live import Live
from rich.table import Table

from dojo_epos.contract.tester_models import FlowResult, Status

__all__ = ["follow", "junit_bytes", "render", "to_junit", "write_junit"]

_COLOURS = {Status.SUCCESS: "green", Status.FAILURE: "red", Status.TIMED_OUT: "yellow",
            Status.IN_PROGRESS: "cyan"}


class _ResultSource(Protocol):
    def get_flow_result(self, flow_id: str) -> FlowResult: ...


def render(result: FlowResult) -> Table:
    """A table of the flow's steps, with each step's details."""
    status = result.status
    table = Table(title=f"{result.flow_name}: [{_COLOURS[status]}]{status.value}[/]",
                  show_lines=False)
    table.add_column("status")
    table.add_column("step")
    table.add_column("details", overflow="fold")
    for step in result.steps:
        details = "\n".join(step.additional_information[-4:])
        table.add_row(f"[{_COLOURS[step.status]}]{step.status.value}[/]", step.name, details)
    return table


def follow(client: _ResultSource, flow_id: str, console: Console, *, timeout: float = 600.0,
           interval: float = 0.25) -> FlowResult:
    """Poll the flow until it ends (or ``timeout``), showing its steps live."""
    deadline = time.monotonic() + timeout
    result = client.get_flow_result(flow_id)
    with Live(render(result), console=console, refresh_per_second=8) as live:
        while result.status is Status.IN_PROGRESS and time.monotonic() < deadline:
            time.sleep(interval)
            result = client.get_flow_result(flow_id)
            live.update(render(result))
    return result


def to_junit(result: FlowResult) -> ET.ElementTree[ET.Element]:
    """One test suite per flow, one test case per step; failed steps carry their details."""
    failures = sum(1 for s in result.steps if s.status is Status.FAILURE)
    errors = sum(1 for s in result.steps if s.status in (Status.TIMED_OUT, Status.IN_PROGRESS))
    duration = 0.0
    if result.finished_at is not None:
        duration = (result.finished_at - result.started_at).total_seconds()
    suite = ET.Element("testsuite", name=result.flow_name, tests=str(len(result.steps)),
                       failures=str(failures), errors=str(errors), time=f"{duration:.3f}",
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
