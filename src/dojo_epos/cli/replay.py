"""``dojo-epos record`` and ``dojo-epos replay``: a scope's calls to a file, and back to an EPOS.

``record`` writes the calls the local platform made for your scope (its stored call log) to a
recording (:mod:`dojo_epos.contract.recording`). ``replay`` sends each recorded request to an EPOS
(its REST URL, or a handler import string) and compares the answers with the recording
(:mod:`dojo_epos.replay`): the regression test an EPOS engineer runs in CI after a change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from dojo_epos.cli.common import (
    ApiKey,
    Password,
    PasswordFile,
    SoftwareHouse,
    console,
    fail,
    out,
    password_from,
    run,
)

__all__ = ["record", "replay"]


def record(
    output: Annotated[Path, typer.Argument(help="The recording to write (JSON Lines).", dir_okay=False)],
    api_key: ApiKey,
    software_house_id: SoftwareHouse,
    db: Annotated[str | None, typer.Option("--db", envvar="PLATFORM_DB",
                                           help="The local platform's database URL.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="The newest N calls at most.")] = 1000,
) -> None:
    """Write the local platform's recorded calls for your scope to a recording file."""
    from dojo_epos.contract.recording import header_line
    from dojo_epos.platform.accounts import KeyPolicy
    from dojo_epos.platform.recording import export_calls
    from dojo_epos.platform.store import Store, utc_now
    from dojo_epos.settings import default_platform_db

    try:
        scope = KeyPolicy(()).authenticate({"authorization": f"Basic {api_key}",
                                            "software-house-id": software_house_id}).scope
    except Exception as exc:
        raise fail(f"cannot use this key: {exc}") from None

    async def main() -> tuple[int, int]:
        store = Store(db or default_platform_db())
        try:
            await store.start()
            rows = list(reversed(await store.calls(scope, limit=limit)))
        finally:
            await store.close()
        calls, left_out = export_calls(rows)
        label = f"{scope.environment.value}/{scope.key_fingerprint}/{scope.software_house_id}"
        lines = [header_line(label, utc_now().isoformat()), *(c.to_line() for c in calls)]
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return len(calls), left_out

    written, left_out = run(main())
    note = f" ({left_out} left out: logged only in part)" if left_out else ""
    out.print(f"recorded {written} call(s) to {output}{note}")


def replay(
    ctx: typer.Context,
    recording: Annotated[Path, typer.Argument(help="A recording made by dojo-epos record.",
                                              exists=True, dir_okay=False)],
    url: Annotated[str | None, typer.Option("--url", help="The EPOS's REST base URL.")] = None,
    handler: Annotated[str | None, typer.Option(
        "--handler", help="An EposHandler import string, module:attribute.")] = None,
    username: Annotated[str, typer.Option("--username", envvar="EPOS_USERNAME",
                                          help="Basic-auth user for --url.")] = "dojo",
    password: Password = None,
    password_file: PasswordFile = None,
    ignore: Annotated[list[str] | None, typer.Option(
        "--ignore", help="A path not compared, dotted, * for any key (e.g. result.id); repeatable.")]
    = None,
    volatile: Annotated[list[str] | None, typer.Option(
        "--volatile", help="A key not compared wherever it appears; repeatable.")] = None,
    keep_timestamps: Annotated[bool, typer.Option(
        "--keep-timestamps", help="Compare ISO-8601 timestamps too.")] = False,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write a JUnit XML report here.",
                                               dir_okay=False)] = None,
) -> None:
    """Re-send a recording's requests to an EPOS and compare the answers.

    Exit 0 when every answer compared matches the recording, 1 when any differs or nothing could be
    compared, 2 for a usage error or a file that is not a recording.
    """
    from dojo_epos.contract.recording import RecordingError, parse_recording
    from dojo_epos.replay import DEFAULT_VOLATILE_KEYS, Rules, exit_code, junit_bytes
    from dojo_epos.replay import replay as run_replay

    if (url is None) == (handler is None):
        raise fail("give --url or --handler (one of them)")
    try:
        parsed = parse_recording(recording.read_text(encoding="utf-8").splitlines())
    except (RecordingError, UnicodeDecodeError) as exc:
        raise fail(f"{recording}: {exc}") from None
    rules = Rules(volatile_keys=DEFAULT_VOLATILE_KEYS | set(volatile or ()),
                  ignore_paths=tuple(ignore or ()), mask_timestamps=not keep_timestamps)
    secret = password_from(ctx, password, password_file) if url is not None else ""

    async def main() -> Any:
        if url is not None:
            from dojo_epos.replay import UrlTarget

            target = UrlTarget(url, username, secret)
            try:
                return await run_replay(parsed, target, rules)
            finally:
                await target.aclose()
        from dojo_epos.epos.loading import HandlerLoadError, close_handler, load_handler
        from dojo_epos.replay import HandlerTarget

        assert handler is not None
        try:
            epos = await load_handler(handler)
        except HandlerLoadError as exc:
            raise fail(str(exc)) from None
        try:
            return await run_replay(parsed, HandlerTarget(epos, handler), rules)
        finally:
            await close_handler(epos)

    results = run(main())
    for r in results:
        if r.skipped:
            out.print(f"SKIP  {r.name}: {r.skipped}", highlight=False)
        elif r.differences:
            out.print(f"DIFF  {r.name}", highlight=False)
            for line in r.differences:
                out.print(f"      {line}", highlight=False)
        else:
            out.print(f"OK    {r.name}", highlight=False)
    matched = sum(1 for r in results if r.matched)
    differed = sum(1 for r in results if r.differences)
    skipped = sum(1 for r in results if r.skipped)
    console.print(f"{matched} matched, {differed} differed, {skipped} skipped")
    if not matched and not differed:
        console.print("nothing was compared: no recorded call had an answer to compare with "
                      "(record calls the EPOS answered)")
    if junit is not None:
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_bytes(junit_bytes(results))
    raise typer.Exit(exit_code(results))

