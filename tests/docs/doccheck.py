"""How the docs' code blocks run: Python executes, shell and CI blocks are checked against the CLI.

The docs use sybil (not pytest-examples): its parsers are plain classes we can extend, so one
document's Python blocks run in order in one namespace (a guide builds up), and the shell and YAML
blocks get evaluators of our own. A Python block runs as is; a JSON block must parse. A shell line that calls
``dojo-epos`` must name a real command, with options that command has (a renamed option fails
the docs); ``make`` must name a Makefile target; ``export`` must be ``NAME=VALUE``; ``uvicorn`` and
``pip`` are other tools and pass. ``dist/dojo-epos`` (the single file, ``make onefile``) is the same CLI
and is checked the same way, as are the arguments after the image in ``docker run ... dojo-epos``;
``node`` must name scripts that exist; a leading ``NAME=VALUE`` sets a variable. The hour test
(tests/docs/test_hour.py) runs the guide's ``<!-- hour -->`` blocks for real, as separate processes.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
import yaml
from sybil import Example, Sybil
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser

from dojo_epos.cli import app

ROOT = Path(__file__).resolve().parents[2]
#: Fenced-block languages the docs may use. ``text`` (or no language) is a figure: a tree, a
#: synopsis. ``js`` is run under node by the test of its own document (tests/docs/test_payments_doc.py).
LANGUAGES = {"python", "sh", "yaml", "json", "text", "", "js", "console"}
#: The languages SYBIL evaluates here.
EVALUATED = {"python", "sh", "yaml", "json", "console"}
#: A ``console`` block is a session transcript (``$ command`` then its output); its commands are
#: checked like a shell block's, and tests/docs/test_certifying.py replays the README's for real.
SESSION_TOOLS = {"echo", "grep"}
OTHER_TOOLS = {"uvicorn", "pip"}
#: Ways to call our CLI other than the installed command: the single file ``make onefile`` builds.
CLI_NAMES = {"dojo-epos", "dist/dojo-epos", "./dist/dojo-epos"}
#: The image the docs build (``docker build -t dojo-epos .``), with or without a tag.
IMAGE = re.compile(r"dojo-epos(:[\w.-]+)?")


def shell_lines(source: str) -> Iterator[list[str]]:
    """The commands of a shell block, each as its tokens (comments and a trailing ``&`` dropped)."""
    for line in source.splitlines():
        tokens = shlex.split(line, comments=True)
        if tokens and tokens[-1] == "&":
            tokens = tokens[:-1]
        if tokens:
            yield tokens


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][\w.-]*):", text, re.MULTILINE))


def check_cli(tokens: list[str]) -> str | None:
    """Why ``dojo-epos ARGS`` would not parse (unknown command or option), or None."""
    # typer ships its own copy of click: read the command tree by duck typing, not isinstance.
    command: Any = typer.main.get_command(app)
    rest = tokens[1:]
    while hasattr(command, "commands") and rest and not rest[0].startswith("-"):
        sub = command.commands.get(rest[0])
        if sub is None:
            return f"dojo-epos has no command {' '.join(tokens[1:len(tokens) - len(rest) + 1])!r}"
        command, rest = sub, rest[1:]
    if hasattr(command, "commands"):
        return f"{' '.join(tokens)!r} names a command group, not a command"
    options = {"--help"}
    for param in command.params:
        if param.param_type_name == "option":
            options.update(o for o in (*param.opts, *param.secondary_opts) if o.startswith("--"))
    for token in rest:
        if token.startswith("--") and token.split("=", 1)[0] not in options:
            return f"{' '.join(tokens[:3])}: no option {token.split('=', 1)[0]}"
    return None


def _check_docker(tokens: list[str]) -> str | None:
    """``docker build|compose`` pass; ``docker run [OPTIONS] dojo-epos ARGS`` checks ARGS as our CLI's."""
    if len(tokens) < 2 or tokens[1] not in ("build", "run", "compose"):
        return f"docker {tokens[1:2]}: the docs checker knows docker build, run and compose"
    if tokens[1] != "run":
        return None
    image = next((i for i, t in enumerate(tokens[2:], 2) if IMAGE.fullmatch(t)), None)
    if image is None:
        return f"{' '.join(tokens)!r} runs no dojo-epos image"
    rest = tokens[image + 1:]
    return check_cli(["dojo-epos", *rest]) if rest else None


def _check_node(tokens: list[str]) -> str | None:
    scripts = [t for t in tokens[1:] if t.endswith((".js", ".mjs"))]
    missing = [s for s in scripts if not (ROOT / s).is_file()]
    if not scripts or missing:
        return f"node runs {missing or 'no script'}: not a file of this repository"
    return None


def check_command(tokens: list[str]) -> str | None:
    while tokens and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", tokens[0]):
        tokens = tokens[1:]  # VAR=value command ...
    if not tokens:
        return None
    head = tokens[0]
    if head in CLI_NAMES:
        return check_cli(["dojo-epos", *tokens[1:]])
    if head == "docker":
        return _check_docker(tokens)
    if head == "node":
        return _check_node(tokens)
    if head == "make":
        missing = [t for t in tokens[1:] if t not in _make_targets()]
        return f"no Makefile target {missing}" if missing else None
    if head == "export":
        bad = [t for t in tokens[1:] if not re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", t)]
        return f"export takes NAME=VALUE, not {bad}" if bad or len(tokens) == 1 else None
    if head in OTHER_TOOLS:
        return None
    return f"a docs shell block runs {head!r}, which the docs checker does not know"


def evaluate_shell(example: Example) -> str | None:
    problems = [p for tokens in shell_lines(str(example.parsed)) if (p := check_command(tokens))]
    return "\n".join(problems) or None


def evaluate_console(example: Example) -> str | None:
    problems = []
    for line in str(example.parsed).splitlines():
        if not line.startswith("$ "):
            continue
        tokens = shlex.split(line[2:].split(" > ", 1)[0], comments=True)
        if tokens and tokens[0] not in SESSION_TOOLS and (problem := check_command(tokens)):
            problems.append(problem)
    return "\n".join(problems) or None


def _runs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "run" and isinstance(value, str):
                yield value
            else:
                yield from _runs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _runs(item)


def evaluate_yaml(example: Example) -> str | None:
    document = yaml.safe_load(str(example.parsed))
    problems = []
    for run in _runs(document):
        problems += [p for tokens in shell_lines(run) if (p := check_command(tokens))]
    return "\n".join(problems) or None


def evaluate_json(example: Example) -> str | None:
    try:
        json.loads(str(example.parsed))
    except ValueError as exc:
        return f"not JSON: {exc}"
    return None


SYBIL = Sybil(parsers=[
    PythonCodeBlockParser(),
    CodeBlockParser("sh", evaluate_shell),
    CodeBlockParser("yaml", evaluate_yaml),
    CodeBlockParser("json", evaluate_json),
    CodeBlockParser("console", evaluate_console),
])


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def fence_languages(text: str) -> list[str]:
    """The language of every fenced block (empty string for none)."""
    languages, inside = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            if not inside:
                languages.append(line[3:].strip())
            inside = not inside
    return languages
