"""HTTP load at fixed concurrency, from another process: ``wrk`` when installed, else our own.

``wrk`` (Debian package ``wrk``) is a C load generator; it costs the machine far less than any
Python client, which matters on two cores where the server under test has one of them. When it is
absent, :func:`run_load` starts ``python -m benchmarks.loadgen`` instead: keep-alive connections on
raw asyncio streams (no HTTP library in the way), each sending its next request as soon as the
previous answer is read. Both report requests per second and latency percentiles; both count
non-2xx answers as errors, which the benchmarks refuse (a fast 401 is not a result).
"""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import percentile
from benchmarks.procs import Child, child_main, emit

__all__ = ["LoadResult", "RequestSpec", "parse_wrk", "run_load", "wrk_available"]


@dataclass(frozen=True)
class RequestSpec:
    """What to send: one method, paths taken in turn, an optional body, extra headers."""

    method: str
    paths: tuple[str, ...]
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def raw(self, host: str, port: int) -> list[bytes]:
        """Each request as HTTP/1.1 bytes (keep-alive)."""
        lines = [f"Host: {host}:{port}", *(f"{k}: {v}" for k, v in self.headers.items())]
        if self.body is not None:
            lines.append(f"Content-Length: {len(self.body)}")
        head = "\r\n".join(lines)
        return [f"{self.method} {p} HTTP/1.1\r\n{head}\r\n\r\n".encode() + (self.body or b"")
                for p in self.paths]


@dataclass
class LoadResult:
    """Throughput and latency of one load run."""

    tool: str
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def combine(rounds: list[LoadResult]) -> LoadResult:
    """Several rounds against one server as one result: requests and time summed (so ``rps``
    is the whole's), each percentile the median of the rounds' (wrk gives no raw latencies)."""
    if not rounds:
        raise ValueError("no rounds to combine")
    seconds = sum(r.seconds for r in rounds)
    requests = sum(r.requests for r in rounds)
    return LoadResult(
        rounds[0].tool, requests, sum(r.errors for r in rounds), round(seconds, 2),
        round(requests / seconds, 2) if seconds else 0.0,
        statistics.median(r.p50_ms for r in rounds), statistics.median(r.p90_ms for r in rounds),
        statistics.median(r.p99_ms for r in rounds))


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


async def run_load(host: str, port: int, spec: RequestSpec, *, concurrency: int, seconds: float,
                   warmup: float, tool: str = "auto") -> LoadResult:
    """Load ``host:port`` with ``spec`` for ``seconds`` after ``warmup`` seconds not counted."""
    use_wrk = wrk_available() if tool == "auto" else tool == "wrk"
    if use_wrk:
        if warmup > 0:
            await _wrk(host, port, spec, concurrency, warmup)
        return await _wrk(host, port, spec, concurrency, seconds)
    child = await Child.start("benchmarks.loadgen", "run", {
        "host": host, "port": port, "method": spec.method, "paths": list(spec.paths),
        "body": None if spec.body is None else spec.body.decode(),
        "headers": dict(spec.headers), "concurrency": concurrency, "seconds": seconds,
        "warmup": warmup})
    try:
        return LoadResult(**await child.read(timeout=seconds + warmup + 60))
    finally:
        await child.stop()


def _lua(spec: RequestSpec) -> str:
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"wrk.method = {quote(spec.method)}"]
    for name, value in spec.headers.items():
        lines.append(f"wrk.headers[{quote(name)}] = {quote(value)}")
    if spec.body is not None:
        lines.append(f"wrk.body = {quote(spec.body.decode())}")
    lines.append("local paths = {" + ", ".join(quote(p) for p in spec.paths) + "}")
    lines += ["local i = 0", "request = function()", "  i = i % #paths + 1",
              "  return wrk.format(nil, paths[i])", "end"]
    return "\n".join(lines) + "\n"


async def _wrk(host: str, port: int, spec: RequestSpec, concurrency: int,
               seconds: float) -> LoadResult:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "load.lua"
        script.write_text(_lua(spec))
        proc = await asyncio.create_subprocess_exec(
            "wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency",
            "-s", str(script), f"http://{host}:{port}/",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await proc.communicate()
    text = out.decode()
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {text}")
    return parse_wrk(text)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(text: str) -> LoadResult:
    """A :class:`LoadResult` from ``wrk --latency`` output."""
    pct = {int(p): _ms(v) for p, v in re.findall(r"^\s+(\d+)%\s+(\S+)\s*$", text, re.M)}
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", text)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if done is None or rps is None or not {50, 90, 99} <= set(pct):
        raise ValueError(f"unexpected wrk output:\n{text}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                              r"timeout (\d+)", text)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return LoadResult(tool="wrk", requests=int(done.group(1)), errors=errors,
                      seconds=_ms(done.group(2) + done.group(3)) / 1000,
                      rps=float(rps.group(1)), p50_ms=pct[50], p90_ms=pct[90], p99_ms=pct[99])


# -- the Python generator (child process) ---------------------------------------------------------


async def _connection(host: str, port: int, requests: list[bytes], start: float, stop: float,
                      latencies: list[float], counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = random.randrange(len(requests))
    try:
        while True:
            sent = time.perf_counter()
            if sent >= stop:
                return
            writer.write(requests[i % len(requests)])
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            if sent >= start:
                latencies.append(time.perf_counter() - sent)
                counts[0 if 200 <= status < 300 else 1] += 1
    finally:
        writer.close()


async def _run(args: dict[str, Any]) -> None:
    body = args["body"].encode() if args["body"] is not None else None
    spec = RequestSpec(args["method"], tuple(args["paths"]), body, args["headers"])
    requests = spec.raw(args["host"], args["port"])
    start = time.perf_counter() + args["warmup"]
    stop = start + args["seconds"]
    latencies: list[float] = []
    counts = [0, 0]
    await asyncio.gather(*(
        _connection(args["host"], args["port"], requests, start, stop, latencies, counts)
        for _ in range(args["concurrency"])))
    ms = [s * 1000 for s in latencies] or [0.0]
    emit(LoadResult(tool="python", requests=counts[0] + counts[1], errors=counts[1],
                    seconds=args["seconds"], rps=(counts[0] + counts[1]) / args["seconds"],
                    p50_ms=percentile(ms, 50), p90_ms=percentile(ms, 90),
                    p99_ms=percentile(ms, 99)).to_json())


if __name__ == "__main__":
    child_main({"run": _run})
