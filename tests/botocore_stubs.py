"""Real botocore clients answered by Stubbers: what the code under test sends is checked against the service
models, and what it receives is what the tests queue."""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.stub import Stubber


class StubbedClients:
    """Real botocore clients with a Stubber each; `expect` queues responses, `verify` checks all were used."""

    def __init__(self) -> None:
        self.session = botocore.session.get_session()
        self.stubbers: dict[str, Stubber] = {}
        self.clients: dict[str, Any] = {}
        self.calls: list[tuple[str, str, str | None]] = []

    def stub(self, service: str) -> Stubber:
        if service not in self.clients:
            self.clients[service] = self.session.create_client(
                service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
            )
            self.stubbers[service] = Stubber(self.clients[service])
            self.stubbers[service].activate()
        return self.stubbers[service]

    def __call__(self, service: str, region: str, endpoint_url: str | None = None) -> Any:
        self.calls.append((service, region, endpoint_url))
        return self.stub(service) and self.clients[service]

    def verify(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()
