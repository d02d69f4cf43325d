"""The Dockerfile and compose.yaml: checked against the CLI here, built where a container engine runs.

Without an engine (``docker info`` fails) the build is skipped, saying why; everything that can be
known without one is checked anyway: the image's entry point is our console script, every command the
image and the compose services run parses with our CLI (unknown options fail) and its ``--help``
works, each service sets every required option (on its command line or by the option's environment
variable) and no setting our CLI would not read, and the addresses agree: each ``http://NAME:PORT`` is
a service listening on that port (and the platform answers to that name), each database URL is the
PostgreSQL service's user, password and a database it creates, each published port is exposed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer
import yaml
from typer.testing import CliRunner

from dojo_epos import __version__
from dojo_epos.cli import app
from tests.docs.doccheck import check_cli

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE, COMPOSE = ROOT / "Dockerfile", ROOT / "compose.yaml"
runner = CliRunner()


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def exec_form(keyword: str) -> list[str]:
    values = [json.loads(rest) for kw, rest in instructions() if kw == keyword]
    assert len(values) == 1 and isinstance(values[0], list), f"one {keyword} in exec (JSON) form"
    form: list[str] = values[-1]
    return form


def services() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    return loaded


def ours() -> dict[str, Any]:
    """The compose services that run our image."""
    return {name: s for name, s in services().items() if s.get("image") == "dojo-epos:local"}


def command_of(argv: list[str]) -> Any:
    """The click command ``dojo-epos ARGV`` runs."""
    command: Any = typer.main.get_command(app)
    rest = list(argv)
    while hasattr(command, "commands") and rest and not rest[0].startswith("-"):
        command, rest = command.commands[rest[0]], rest[1:]
    return command


def path_of(argv: list[str]) -> list[str]:
    return [a for a in argv[:2] if not a.startswith("-")]


def option_value(argv: list[str], name: str) -> str | None:
    return next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a == name), None)


def test_the_image_runs_our_console_script_and_its_default_command_parses() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert exec_form("ENTRYPOINT") == ["dojo-epos"] and "dojo-epos" in scripts
    cmd = exec_form("CMD")
    assert check_cli(["dojo-epos", *cmd]) is None
    assert runner.invoke(app, [*path_of(cmd), "--help"]).exit_code == 0
    exposed = {int(p) for kw, rest in instructions() if kw == "EXPOSE" for p in rest.split()}
    assert int(option_value(cmd, "--port") or 0) in exposed
    assert option_value(cmd, "--host") == "0.0.0.0", "on loopback nothing outside the container reaches it"


def test_the_image_copies_what_exists_and_the_ignore_file_lets_through() -> None:
    kept = {line[1:] for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")}
    for keyword, rest in instructions():
        if keyword == "COPY" and not rest.startswith("--from"):
            for source in rest.split()[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: no such file"
                assert source.rstrip("/") in kept, f"COPY {source}: .dockerignore leaves it out"
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    installs = [rest for kw, rest in instructions() if kw == "RUN" and "pip install" in rest]
    groups = [g for rest in installs for g in re.findall(r"\.\[([\w,-]+)\]", rest)]
    wanted = {extra for group in groups for extra in group.split(",")}
    assert wanted and wanted <= set(extras), f"extras {wanted - set(extras)} are not in pyproject.toml"


@pytest.mark.parametrize("name", sorted(ours()))
def test_each_compose_command_parses_and_gets_every_required_option(name: str) -> None:
    service = ours()[name]
    argv, env = service["command"], service.get("environment", {})
    assert check_cli(["dojo-epos", *argv]) is None
    assert runner.invoke(app, [*path_of(argv), "--help"]).exit_code == 0
    command = command_of(argv)
    read = {p.envvar for p in command.params if isinstance(getattr(p, "envvar", None), str)}
    ignored = [k for k in env if k.startswith(("DOJO_", "EPOS_", "PLATFORM_")) and k not in read]
    assert not ignored, f"{name} sets {ignored}, which `dojo-epos {' '.join(path_of(argv))}` never reads"
    for param in command.params:
        if param.required and param.param_type_name == "option":
            assert set(param.opts) & set(argv) or param.envvar in env, f"{name}: {param.opts[0]} is missing"


def _listening_port(service: dict[str, Any]) -> int:
    return int(option_value(service["command"], "--port") or 0)


def test_compose_addresses_name_services_listening_there() -> None:
    everything, ours_ = services(), ours()
    urls = [(name, v) for name, s in ours_.items()
            for v in [*s["command"], *map(str, s.get("environment", {}).values())]
            if v.startswith("http://")]
    assert urls, "the register service names the platform and the EPOS by URL"
    for name, url in urls:
        parts = urlsplit(url)
        target = ours_.get(parts.hostname or "")
        assert target is not None, f"{name}: {url} names no service of ours"
        assert parts.port == _listening_port(target), f"{name}: {url}, but it listens elsewhere"
        if target["command"][0] == "platform":
            assert option_value(target["command"], "--allowed-host") == parts.hostname, (
                f"the platform refuses Host {parts.hostname!r} unless --allowed-host allows it")
    for name, service in ours_.items():
        assert set(service.get("depends_on", {})) <= set(everything), name
        for published in service.get("ports", []):
            assert int(str(published).split(":")[-1]) == _listening_port(service), f"{name}: {published}"
            assert int(str(published).split(":")[-1]) in {
                int(p) for kw, rest in instructions() if kw == "EXPOSE" for p in rest.split()}
        health = " ".join(service.get("healthcheck", {}).get("test", []))
        for port in re.findall(r"127\.0\.0\.1:(\d+)/healthz", health):
            assert int(port) == _listening_port(service), f"{name}'s health check asks another port"


def test_compose_databases_are_the_postgres_service_s() -> None:
    everything = services()
    pg = everything["postgres"]["environment"]
    mounts = [v.split(":")[0] for v in everything["postgres"].get("volumes", []) if v.startswith("./")]
    created = {pg["POSTGRES_DB"]}
    for mount in mounts:
        assert (ROOT / mount).is_file(), f"{mount}: no such file"
        created |= set(re.findall(r"CREATE DATABASE (\w+)", (ROOT / mount).read_text()))
    urls = [v for s in ours().values() for k, v in s.get("environment", {}).items() if k.endswith("_DB")]
    assert len(urls) >= 2
    for url in urls:
        parts = urlsplit(url)
        assert parts.scheme == "postgresql" and parts.hostname == "postgres" and parts.port == 5432
        assert (parts.username, parts.password) == (pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"])
        assert parts.path.lstrip("/") in created, f"{url}: no service creates that database"


def _engine() -> str | None:
    """Why there is no container engine to build with, or None when there is one."""
    if shutil.which("docker") is None:
        return "no docker command"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60, check=False)
    if info.returncode != 0:
        why = [line for line in (info.stderr or info.stdout).splitlines() if line.strip()]
        return f"`docker info` failed: {why[-1].strip() if why else info.returncode}"
    return None


def test_compose_file_is_valid_for_docker_compose() -> None:
    if shutil.which("docker") is None or subprocess.run(
            ["docker", "compose", "version"], capture_output=True, timeout=60, check=False).returncode:
        pytest.skip("no `docker compose` here (the compose plugin is not installed)")
    checked = subprocess.run(["docker", "compose", "-f", str(COMPOSE), "config", "--quiet"],
                             capture_output=True, text=True, timeout=60, check=False)
    assert checked.returncode == 0, checked.stderr


def test_the_image_builds_and_runs_the_cli() -> None:
    why = _engine()
    if why:
        pytest.skip(f"no container engine to build the image with: {why}")
    tag = "dojo-epos:test"
    built = subprocess.run(["docker", "build", "-t", tag, str(ROOT)], capture_output=True, text=True,
                           timeout=900, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    shown = subprocess.run(["docker", "run", "--rm", tag, "--version"], capture_output=True, text=True,
                           timeout=120, check=False)
    assert shown.returncode == 0 and __version__ in shown.stdout, shown.stdout + shown.stderr
    helped = subprocess.run(["docker", "run", "--rm", tag, "epos", "serve", "--help"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert helped.returncode == 0 and "--username" in helped.stdout
