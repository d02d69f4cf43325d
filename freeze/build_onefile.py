"""Build ``dist/dojo-epos``: the CLI frozen by PyInstaller into one Linux executable (``make onefile``).

PyInstaller (not shiv or pex) because the file must run where no Python is installed: it carries
the interpreter, the standard library and the compiled wheels (pydantic-core, SQLAlchemy's and
uvicorn's extensions) and unpacks them to a temporary folder when it starts. docs/onefile.md says
what that costs and what the target machine still needs (Linux, the build's CPU architecture and a
glibc at least as new as the build machine's).

The build takes about a minute, so its result is cached under ``$XDG_CACHE_HOME/dojo-epos/onefile``
(default ``~/.cache``), keyed by everything that goes into it: the sources and package data, this
script, pyproject.toml, the Python version and the installed distributions. An unchanged tree
copies the cached file (well under a second); any change builds afresh. The newest three are kept.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "dojo-epos"
#: Cached builds kept (the newest ones): a few branches or states of a tree can alternate.
KEEP = 3
#: Bundled although nothing imports them by name: SQLAlchemy loads its database drivers by URL
#: (sqlite+aiosqlite, postgresql+asyncpg) and the NATS bus is imported only for --bus nats://.
HIDDEN = ["aiosqlite", "asyncpg", "nats"]
#: In the build's virtualenv (the test tools) but never imported by the CLI: kept out explicitly.
EXCLUDED = ["pytest", "_pytest", "hypothesis", "playwright", "schemathesis", "mypy", "tkinter",
            "sybil", "importlinter", "grimp", "IPython", "yaml"]


def _inputs() -> list[Path]:
    files = sorted(p for p in (ROOT / "src" / "dojo_epos").rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc"))
    return [*files, ROOT / "pyproject.toml", Path(__file__).resolve(), ROOT / "freeze" / "onefile.py"]


def cache_key() -> str:
    """A digest of everything the executable is built from."""
    digest = hashlib.sha256()
    digest.update(f"{sys.version}|{platform.machine()}|{platform.libc_ver()}".encode())
    for dist in sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()):
        digest.update(dist.encode() + b"\n")
    for path in _inputs():
        digest.update(str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:24]


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dojo-epos" / "onefile"


#: PyInstaller appends the archive to the executable with objcopy; --strip runs strip (binutils).
TOOLS = ("objcopy", "strip")


def pyinstaller(out: Path) -> None:
    """Freeze freeze/onefile.py into ``out`` (a file)."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise SystemExit(f"make onefile needs {' and '.join(missing)} (binutils): "
                         "apt-get install binutils, or your system's equivalent")
    with tempfile.TemporaryDirectory(prefix="dojo-epos-onefile-") as work:
        command = [sys.executable, "-m", "PyInstaller", "--onefile", "--name", NAME, "--noconfirm",
                   "--log-level", "WARN", "--strip", "--distpath", str(Path(work) / "dist"),
                   "--workpath", str(Path(work) / "build"), "--specpath", work,
                   "--paths", str(ROOT / "src"),
                   # every module of ours (handlers and flows are found by name) and its templates
                   "--collect-submodules", "dojo_epos", "--collect-data", "dojo_epos",
                   *(f"--hidden-import={m}" for m in HIDDEN),
                   *(f"--exclude-module={m}" for m in EXCLUDED),
                   str(ROOT / "freeze" / "onefile.py")]
        subprocess.run(command, check=True, cwd=work)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(work) / "dist" / NAME, out)


def build(out: Path, *, use_cache: bool = True) -> str:
    """Build (or copy from the cache) the executable to ``out``; says which it did."""
    key = cache_key()
    cached = cache_dir() / key / NAME
    out.parent.mkdir(parents=True, exist_ok=True)  # dist/ is not there in a fresh clone
    if use_cache and cached.is_file():
        shutil.copy2(cached, out)
        return f"{out}: from the cache ({cached})"
    pyinstaller(out)
    if use_cache:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".partial")
        shutil.copy2(out, partial)
        partial.replace(cached)  # a reader never sees half a file
        prune(keep=KEEP)
    return f"{out}: built ({out.stat().st_size // 1_000_000} MB)"


def prune(keep: int) -> None:
    """Remove all but the ``keep`` newest cached builds (each is some 25 MB)."""
    entries = sorted((d for d in cache_dir().iterdir() if d.is_dir()),
                     key=lambda d: d.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / NAME)
    parser.add_argument("--no-cache", action="store_true",
                        help="build afresh, neither read nor fill the cache")
    args = parser.parse_args(argv)
    print(build(args.out, use_cache=not args.no_cache))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
