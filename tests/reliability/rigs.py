"""A local platform on a real loopback port with reference-EPOS connectors attached to it.

Used by the storm (payments through the gateway) and the fault tests (restart the platform, watch
the connectors come back). Each connector gets its own software house, so each has its own scope
and its own live socket; all of them can share one EPOS database.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dojo_epos.epos.connector import Connector, ConnectorState
from dojo_epos.epos.handler import EposHandler
from dojo_epos.platform import Platform, PlatformSettings, build_platform_app
from dojo_epos.platform.accounts import Caller, Environment, Scope, fingerprint
from tests.reliability.conftest import LoopServer

API_KEY = "sk_sandbox_reliability0123456789"


def scope_for(software_house: str, key: str = API_KEY) -> Scope:
    return Scope(Environment.SANDBOX, fingerprint(key), software_house)


@dataclass
class PlatformRig:
    platform: Platform
    server: LoopServer
    connectors: list[Connector] = field(default_factory=list)
    runners: list[asyncio.Task[None]] = field(default_factory=list)
    scopes: list[Scope] = field(default_factory=list)

    async def attach(self, handler: EposHandler, software_house: str, **options: Any) -> Connector:
        """A connector for ``handler`` under ``software_house``, registered over WS and connected."""
        scope = scope_for(software_house)
        caps = [{"name": c.name, "version": "v1"} for c in handler.offered_capabilities()]
        await self.platform.registry.put_ws(Caller(scope), {"capabilities": caps})
        options = {"backoff_initial": 0.05, "backoff_max": 0.5, "ping_interval": None,
                   "grace_period": 0.5, **options}
        connector = Connector(handler, self.server.ws_url, API_KEY, software_house, **options)
        self.connectors.append(connector)
        self.scopes.append(scope)
        self.runners.append(asyncio.create_task(connector.run()))
        await self.wait_connected(connector, scope)
        return connector

    async def wait_connected(self, connector: Connector, scope: Scope,
                             timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout):
            while not (connector.state is ConnectorState.CONNECTED
                       and self.platform.gateway.connection(scope) is not None):
                await asyncio.sleep(0.005)

    async def aclose(self) -> None:
        for connector in self.connectors:
            await connector.stop()
        await asyncio.gather(*self.runners, return_exceptions=True)
        await self.server.stop()
        await self.platform.close()


async def platform_rig(tmp_path: Path, *, call_timeout: float = 5.0, port: int = 0,
                       **settings: Any) -> PlatformRig:
    platform = Platform(PlatformSettings(
        db_url=f"sqlite:///{tmp_path / 'platform.sqlite3'}", call_timeout=call_timeout,
        ping_interval=None, **settings))
    await platform.start()
    server = await LoopServer(build_platform_app(platform=platform), port).start()
    return PlatformRig(platform, server)
