"""The dashboard's web plumbing: templates, the scope in URLs, forms, and the same-origin guard.

Why an Origin check and no CSRF token: the dashboard is a local tool with no login, no cookie and no
session, so there is no ambient credential for a forged request to ride on; what a hostile page
could still do is make the browser *post* a form to the local platform (start a flow, take a
payment on the virtual terminal). Browsers always send ``Origin`` on a cross-site POST, so every
POST must carry an ``Origin`` (or, failing that, a ``Referer``) naming this very host and port; a
POST with neither is refused too. Pages are sent with ``Referrer-Policy: same-origin`` (with
``no-referrer`` Chromium would send ``Origin: null`` on our own forms) and a Content Security
Policy that allows only our own script, style and form targets, and no framing (clickjacking).
The read-only JSON endpoints send no CORS headers, so another origin cannot read them.

Every value shown comes from an EPOS or a caller and is untrusted: templates autoescape, and SVG
from bills is never inlined.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from dojo_epos.contract.tester_models import FlowResult
from dojo_epos.platform.accounts import Environment as KeyEnvironment
from dojo_epos.platform.accounts import Scope
from dojo_epos.platform.tester.engine import transport_of

__all__ = [
    "BASE",
    "FormError",
    "parse_scope",
    "read_form",
    "render",
    "same_origin",
    "scope_token",
]

BASE = "/dashboard"
HERE = Path(__file__).parent
MAX_FORM_BYTES = 64 * 1024

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class FormError(Exception):
    """A POST the dashboard refuses (wrong origin, unreadable form)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def scope_token(scope: Scope) -> str:
    """How a scope appears in URLs: ``environment:fingerprint:softwareHouse``."""
    return f"{scope.environment.value}:{scope.key_fingerprint}:{scope.software_house_id}"


def quote_token(value: Scope | str) -> str:
    """A scope's token (or any text) quoted for a URL's query string."""
    return quote(scope_token(value) if isinstance(value, Scope) else value, safe="")


def parse_scope(token: str | None) -> Scope | None:
    """The scope of a token made by :func:`scope_token` (None if malformed)."""
    if not token:
        return None
    parts = token.split(":", 2)
    if len(parts) != 3 or not all(parts):
        return None
    try:
        environment = KeyEnvironment(parts[0])
    except ValueError:
        return None
    return Scope(environment, parts[1], parts[2])


#: The key labels (fingerprint -> ``sk_sandbox_…3f9a``) of the platforms serving a dashboard in
#: this process: each platform's KeyPolicy dict, shared, not copied. A label is made from the key
#: alone, so any platform that saw a key labels it the same.
LABEL_SOURCES: list[Mapping[str, str]] = []


def add_label_source(labels: Mapping[str, str]) -> None:
    if not any(source is labels for source in LABEL_SOURCES):
        LABEL_SOURCES.append(labels)
        del LABEL_SOURCES[:-20]


def key_label(scope: Scope | str) -> str:
    """How the pages name a scope's key (or a key fingerprint): its prefix and last four
    characters when this process has seen the key, otherwise its fingerprint (the key itself is
    never known here)."""
    digest = scope.key_fingerprint if isinstance(scope, Scope) else scope
    for source in reversed(LABEL_SOURCES):
        label = source.get(digest)
        if label:
            return label
    return f"key {digest[:8]}… (not seen since the platform started)"


def _url(path: str, **query: Any) -> str:
    params = {k: v for k, v in query.items() if v not in (None, "")}
    return BASE + path + (("?" + urlencode(params)) if params else "")


def _when(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    else:
        moment = value
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _clock(value: datetime) -> str:
    """A time of day as a terminal shows it (``21:54``), in UTC."""
    return value.astimezone(UTC).strftime("%H:%M")


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _duration(run: FlowResult) -> str:
    """How long a run took ("running" while it runs)."""
    if run.finished_at is None:
        return "running"
    return f"{(run.finished_at - run.started_at).total_seconds():.2f} s"


def _transport(run: FlowResult) -> str:
    """The transport a run used, as its first step names it ("-" before the first step)."""
    return transport_of(run) or "-"


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(url=_url, scope_token=scope_token, static=BASE + "/static",
                       key_label=key_label)
    env.filters.update(when=_when, pretty=_pretty, clock=_clock, duration=_duration, transport=_transport)
    return env


TEMPLATES = _environment()


def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page rendered from ``templates/name`` with the security headers."""
    html = TEMPLATES.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def render_fragment(name: str, **context: Any) -> str:
    return TEMPLATES.get_template(name).render(**context)


def no_store(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def same_origin(headers: Mapping[str, str], host: str | None) -> bool:
    """Whether a POST's ``Origin`` (or ``Referer``) names the host it was sent to."""
    if not host:
        return False
    origin = headers.get("origin")
    if origin is None or origin == "null":
        origin = headers.get("referer") if origin is None else None
    if not origin:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


async def read_form(request: Request) -> dict[str, str]:
    """A same-origin, URL-encoded form's fields (the last value of each); raises FormError."""
    if not same_origin(request.headers, request.headers.get("host")):
        raise FormError(403, "This form must be sent from the dashboard itself "
                             "(the Origin header does not match this host).")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise FormError(415, "Send the form URL-encoded.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormError(413, "The form is too large.")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise FormError(400, "The form is not UTF-8.") from None
    return {k: v[-1] for k, v in fields.items()}
