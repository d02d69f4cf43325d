"""Network errors name the URL and say what to do; the default URL is called real Dojo."""

from __future__ import annotations

import httpx
import pytest

from dojo_epos import Client, PlatformApiError, PlatformUnreachable
from dojo_epos.hints import unreachable_hint, wrong_path_hint
from dojo_epos.settings import DEFAULT_API_URL, DEFAULT_WS_URL


def failing(exc: Exception) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        raise exc
    return httpx.MockTransport(answer)


def test_the_default_url_is_called_real_dojo() -> None:
    assert unreachable_hint(DEFAULT_API_URL).startswith(
        "https://api.dojo.tech is real Dojo (the default URL)")
    assert "DOJO_API_URL=http://127.0.0.1:8000" in unreachable_hint(DEFAULT_API_URL)
    assert "DOJO_WS_URL=ws://127.0.0.1:8000/epos" in unreachable_hint(DEFAULT_WS_URL)
    assert "real Dojo" not in unreachable_hint("http://127.0.0.1:8000")
    assert "is `dojo-epos platform serve` running there?" in unreachable_hint("http://127.0.0.1:8000")
    assert "/epos" in wrong_path_hint("ws://h/x") and "has no path" in wrong_path_hint("http://h/x")


@pytest.mark.parametrize("base_url", [DEFAULT_API_URL, "http://127.0.0.1:8765"])
def test_the_client_names_the_url_and_the_hint(base_url: str) -> None:
    with Client("sk_sandbox_x", "house", base_url=base_url,
                transport=failing(httpx.ConnectError("[Errno -2] Name or service not known"))) as client:
        with pytest.raises(PlatformUnreachable) as info:
            client.get_integrations()
    message = str(info.value)
    assert message.startswith(f"cannot reach {base_url}/epos/integrations (ConnectError: [Errno -2]")
    assert unreachable_hint(base_url) in message
    assert "sk_sandbox_x" not in message


def test_a_404_under_a_base_url_with_a_path_says_the_base_url_has_no_path() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(404, json={"message": "Not Found"}))
    with Client("sk_sandbox_x", "house", base_url="http://127.0.0.1:8000/epos",
                transport=transport) as client:
        with pytest.raises(PlatformApiError) as info:
            client.get_integrations()
    assert str(info.value) == ("HTTP 404 from http://127.0.0.1:8000/epos/epos/integrations: Not Found "
                               f"({wrong_path_hint('http://127.0.0.1:8000/epos')})")
    with Client("sk_sandbox_x", "house", base_url="http://127.0.0.1:8000", transport=transport) as client:
        with pytest.raises(PlatformApiError) as info:
            client.get_integrations()
    assert "has no path" not in str(info.value)
