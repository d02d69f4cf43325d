"""Basic auth on the EPOS's REST app: repeated failures from one client are refused (429).

Driven with plain httpx against the app, as a stranger would; each client is a peer address.
"""

from __future__ import annotations

import httpx
import pytest

from dojo_epos.epos.auth_throttle import AuthThrottle
from dojo_epos.epos.rest import build_rest_app
from tests.conformance.handlers import ConformanceHandler

USER, PASSWORD = "dojo", "right-Pw-1"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client(app: object, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://epos.test")


async def test_repeated_failures_are_refused_with_429_even_for_a_right_guess() -> None:
    clock = Clock()
    app = build_rest_app(ConformanceHandler(), username=USER, password=PASSWORD,
                         auth_throttle=AuthThrottle(burst=5, per_second=0.5, clock=clock))
    async with client(app, "203.0.113.9") as guesser, client(app, "198.51.100.7") as dojo:
        codes = [(await guesser.get("/v1/areas", auth=(USER, f"guess-{i}"))).status_code
                 for i in range(8)]
        assert codes == [401] * 5 + [429] * 3
        refused = await guesser.get("/v1/areas", auth=(USER, PASSWORD))
        assert refused.status_code == 429, "a right guess must not be revealed while throttled"
        assert refused.json()["errorType"] == "InvalidRequest" and refused.json()["traceId"]
        assert int(refused.headers["retry-after"]) >= 1
        assert (await dojo.get("/v1/areas", auth=(USER, PASSWORD))).status_code == 200
        clock.now += 2.0  # one attempt earned back (0.5 per second)
        assert (await guesser.get("/v1/areas", auth=(USER, PASSWORD))).status_code == 200
        assert (await guesser.get("/v1/areas", auth=(USER, "again"))).status_code == 401
        assert (await guesser.get("/v1/areas", auth=(USER, "again"))).status_code == 429


async def test_good_requests_take_nothing_from_the_budget() -> None:
    app = build_rest_app(ConformanceHandler(), username=USER, password=PASSWORD,
                         auth_throttle=AuthThrottle(burst=2, per_second=0.001, clock=Clock()))
    async with client(app, "198.51.100.7") as dojo:
        for _ in range(200):
            assert (await dojo.get("/v1/areas", auth=(USER, PASSWORD))).status_code == 200
        assert (await dojo.get("/v1/areas")).status_code == 401  # no credentials at all counts
        assert (await dojo.get("/v1/areas", auth=(USER, "typo"))).status_code == 401
        assert (await dojo.get("/v1/areas", auth=(USER, PASSWORD))).status_code == 429


async def test_a_setting_turns_the_throttle_off() -> None:
    app = build_rest_app(ConformanceHandler(), username=USER, password=PASSWORD, auth_throttle=False)
    async with client(app, "203.0.113.9") as guesser:
        codes = {(await guesser.get("/v1/areas", auth=(USER, f"g{i}"))).status_code for i in range(40)}
        assert codes == {401}
        assert (await guesser.get("/v1/areas", auth=(USER, PASSWORD))).status_code == 200


def test_the_number_of_clients_remembered_is_bounded() -> None:
    throttle = AuthThrottle(burst=1, per_second=0.001, max_clients=3, clock=Clock())
    for n in range(10):
        throttle.failed(f"10.0.0.{n}")
    assert throttle.retry_after("10.0.0.9") is not None
    assert throttle.retry_after("10.0.0.0") is None  # forgotten, oldest first
    with pytest.raises(ValueError):
        AuthThrottle(burst=0)
