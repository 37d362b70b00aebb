"""What an operation's action may touch: its API's declarations, state and clock. Nothing else.

Actions, `Exchange`, the webhook dispatcher, `listing` and the per-API modules in `apis/` hold a
`Runtime`, never the whole `Api`: they cannot reach the pipeline, the admin API or each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from mocks.auth import Authenticator
from mocks.clock import Clock
from mocks.contract import Contract
from mocks.events import Event, EventBus
from mocks.fixtures import Fixtures
from mocks.resources import ResourceType
from mocks.state.protocol import Store


class DeliveryQueue(Protocol):
    """Where an action hands an outgoing webhook (the dispatcher, built on top of the runtime)."""

    def enqueue(self, url: str, body: bytes, headers: dict[str, str], **about: Any) -> Any: ...


@dataclass(slots=True, eq=False)
class Runtime:
    name: str
    contract: Contract  # read-only; action builders use it at compile time
    fixtures: Fixtures  # read-only: credentials, tenants, tenant attributes
    resources: Mapping[str, ResourceType]
    store: Store
    clock: Clock
    events: EventBus
    auth: Authenticator  # issue(values, principal, expires_at), revoke(values)
    deliveries: DeliveryQueue | None = None  # set once the webhook dispatcher exists

    def group_of(self, resource: ResourceType, scope: str | None) -> Any:
        if not resource.group_attribute or scope is None:
            return None
        return self.fixtures.tenant_attributes(scope).get(resource.group_attribute)

    def tenant_attributes(self, scope: str | None) -> dict[str, Any]:
        return self.fixtures.tenant_attributes(scope)

    def emit(self, resource: ResourceType, change: str, record: dict[str, Any], principal: str | None,
             now: float) -> None:
        event_type = resource.events.get(change)
        if event_type is None:
            return
        self.events.publish(Event(type=event_type, resource=resource.name, data=resource.public(record),
                                  scope=record.get("scope"), principal=principal, timestamp=now))

    def create(self, resource: ResourceType, data: dict[str, Any], scope: str | None, principal: str | None,
               now: float) -> dict[str, Any]:
        """Mint ids, defaults and timestamps, store the new resource, announce it; its public view."""
        record = resource.new_record(data, scope, self.group_of(resource, scope), self.store, now)
        self.store.insert(resource.name, resource.key(record["data"]), record, resource.index(record["data"]))
        self.emit(resource, "created", record, principal, now)
        return resource.public(record)

    def visible(self, resource: ResourceType, key: Any, scope: str | None) -> dict[str, Any] | None:
        """A stored record by id, if `scope` may see it."""
        record = self.store.get(resource.name, str(key))
        if record is None or not resource.visible(record, scope, self.group_of(resource, scope)):
            return None
        return record
