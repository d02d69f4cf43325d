"""Logging for a person (text) or a collector (JSON lines)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from dojo_epos.logsetup import configure_logging


@pytest.fixture(autouse=True)
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_json_lines_carry_time_level_logger_and_message(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "json")
    logging.getLogger("dojo_epos.epos.connector").info("connector connected to %s", "ws://x/epos")
    logging.getLogger("dojo_epos").debug("not shown at info")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["level"] == "info" and record["logger"] == "dojo_epos.epos.connector"
    assert record["message"] == "connector connected to ws://x/epos"
    assert record["time"].endswith("+00:00")


def test_text_lines_for_a_person_and_the_level_filters(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("warning", "text")
    logging.getLogger("dojo_epos").info("hidden")
    logging.getLogger("dojo_epos").warning("connector failed: no platform")
    err = capsys.readouterr().err
    assert "hidden" not in err
    assert err.rstrip().endswith("WARNING connector failed: no platform")


@pytest.mark.parametrize(("level", "fmt", "words"),
                         [("loud", "text", "log level"), ("info", "xml", "format")])
def test_bad_settings_are_refused(level: str, fmt: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        configure_logging(level, fmt)
