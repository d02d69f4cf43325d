"""API keys and identity headers on the platform API: who gets in, and the errors of those who don't."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from dojo_epos.platform import PlatformSettings, build_platform_app
from dojo_epos.platform.accounts import AuthFailure, Environment, KeyPolicy, fingerprint
from tests.platform.conftest import PROD_KEY, SANDBOX_KEY, SOFTWARE_HOUSE, auth_headers

ENDPOINTS = [
    ("GET", "/epos/integrations"),
    ("GET", "/epos/integrations/rest"),
    ("PUT", "/epos/integrations/rest"),
    ("GET", "/epos/integrations/ws"),
    ("PUT", "/epos/integrations/ws"),
    ("GET", "/epos/integrations/dojo"),
    ("POST", "/epos/events"),
    ("GET", "/epos/events"),
]

BAD_AUTHORIZATION = {
    "missing header": None,
    "empty header": "",
    "bearer scheme": f"Bearer {SANDBOX_KEY}",
    "no key after Basic": "Basic ",
    "unknown prefix": "Basic sk_live_0123456789abcdef",
    "publishable-style key": "Basic pk_sandbox_0123456789abcdef",
    "base64 of the key": "Basic " + base64.b64encode(SANDBOX_KEY.encode()).decode(),
    "base64 of account:key": "Basic " + base64.b64encode(f"acct:{SANDBOX_KEY}".encode()).decode(),
    "key with a space inside": "Basic sk_sandbox_abc def",
}


async def test_healthz_answers_without_auth(http: httpx.AsyncClient) -> None:
    """GET /healthz needs no key and says the service is up."""
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("case", list(BAD_AUTHORIZATION))
async def test_every_endpoint_refuses_a_bad_authorization_with_401_json(
    http: httpx.AsyncClient, method: str, path: str, case: str
) -> None:
    """Missing, malformed, base64'd or unknown-prefix keys get 401 with a JSON error."""
    headers: dict[str, str] = {"software-house-id": SOFTWARE_HOUSE}
    value = BAD_AUTHORIZATION[case]
    if value is not None:
        headers["Authorization"] = value
    response = await http.request(method, path, headers=headers, json={"capabilities": []})
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"error", "message"}
    assert body["error"] in {"missing_api_key", "invalid_authorization", "invalid_api_key"}


async def test_a_base64_key_is_told_to_send_the_key_as_is(http: httpx.AsyncClient) -> None:
    """The legacy base64 form is a known mix-up, so the message says what to do instead."""
    response = await http.get("/epos/integrations", headers={
        "Authorization": BAD_AUTHORIZATION["base64 of the key"],
        "software-house-id": SOFTWARE_HOUSE})
    assert response.status_code == 401
    assert "as is" in response.json()["message"]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_every_endpoint_requires_software_house_id(
    http: httpx.AsyncClient, method: str, path: str
) -> None:
    """A valid key without software-house-id gets 400 missing_software_house_id."""
    response = await http.request(method, path, headers=auth_headers(software_house=None),
                                  json={"capabilities": []})
    assert response.status_code == 400
    assert response.json()["error"] == "missing_software_house_id"


async def test_blank_software_house_id_is_missing(http: httpx.AsyncClient) -> None:
    """Whitespace is not an identity."""
    response = await http.get("/epos/integrations", headers=auth_headers(software_house="  "))
    assert response.status_code == 400


async def test_any_well_formed_key_is_its_own_account_by_default(http: httpx.AsyncClient) -> None:
    """Without an allow-list, both sandbox and production keys are accepted."""
    for key in (SANDBOX_KEY, PROD_KEY, "sk_sandbox_x"):
        response = await http.get("/epos/integrations", headers=auth_headers(key))
        assert response.status_code == 200, key


async def test_allow_list_admits_only_listed_keys(tmp_path: Path) -> None:
    """With --api-key, other well-formed keys get 401."""
    settings = PlatformSettings(db_url=f"sqlite:///{tmp_path / 'p.db'}",
                                allowed_keys=[SANDBOX_KEY])
    app = build_platform_app(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://p") as client:
            ok = await client.get("/epos/integrations", headers=auth_headers(SANDBOX_KEY))
            refused = await client.get("/epos/integrations", headers=auth_headers(PROD_KEY))
    finally:
        await app.state.platform.close()
    assert ok.status_code == 200
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_api_key"


def test_allow_list_refuses_a_malformed_key_at_start() -> None:
    """A typo in --api-key is reported when the platform starts, not at the first request."""
    with pytest.raises(ValueError, match="sk_sandbox_"):
        KeyPolicy(["not-a-key"])


def test_key_prefix_picks_the_environment_and_scope_holds_no_key() -> None:
    """sk_sandbox_ -> sandbox, sk_prod_ -> production; the scope carries a hash, not the key."""
    policy = KeyPolicy()
    sandbox = policy.authenticate(auth_headers(SANDBOX_KEY, reseller="r1"))
    prod = policy.authenticate(auth_headers(PROD_KEY))
    assert sandbox.scope.environment is Environment.SANDBOX
    assert prod.scope.environment is Environment.PRODUCTION
    assert sandbox.reseller_id == "r1" and prod.reseller_id is None
    assert sandbox.scope.key_fingerprint == fingerprint(SANDBOX_KEY)
    assert SANDBOX_KEY not in repr(sandbox) and SANDBOX_KEY not in str(sandbox.scope)


def test_header_names_are_case_insensitive() -> None:
    """HTTP header names are case-insensitive, so a plain dict with odd casing works too."""
    caller = KeyPolicy().authenticate({"AUTHORIZATION": f"Basic {SANDBOX_KEY}",
                                       "Software-House-Id": "sh"})
    assert caller.scope.software_house_id == "sh"


def test_the_key_is_checked_before_the_software_house() -> None:
    """A request with neither gets 401 (credentials first), not 400."""
    with pytest.raises(AuthFailure) as info:
        KeyPolicy().authenticate({})
    assert info.value.status == 401
