"""A new record's defaults: filled where the client sent nothing, and never shared between records."""

from __future__ import annotations

from mocks.resources import ResourceType
from mocks.state.memory import MemoryStore

SPEC = {"id": {"field": "id"},
        "defaults": {"object": "customer", "email": None, "metadata": {}, "tags": [],
                     "address": {"lines": ["Unit 1"], "country": "NZ"}}}


def created(data: dict) -> dict:
    return ResourceType.declare("customer", SPEC).new_record(data, "tenant", None, MemoryStore(), 0.0)["data"]


def test_defaults_fill_what_the_client_left_out_or_sent_as_null():
    data = created({"name": "Ada", "email": None, "metadata": {"tier": "gold"}})
    assert data["object"] == "customer" and data["email"] is None and data["tags"] == []
    assert data["metadata"] == {"tier": "gold"}
    assert data["address"] == {"lines": ["Unit 1"], "country": "NZ"}


def test_no_two_records_share_a_default_object():
    resource = ResourceType.declare("customer", SPEC)
    store = MemoryStore()
    first, second = (resource.new_record({"name": name}, "tenant", None, store, 0.0)["data"] for name in "AB")
    first["metadata"]["tier"] = "gold"
    first["tags"].append("vip")
    first["address"]["lines"].append("Level 2")
    assert second["metadata"] == {} and second["tags"] == []
    assert second["address"] == {"lines": ["Unit 1"], "country": "NZ"}
    assert resource.defaults["metadata"] == {} and resource.defaults["address"]["lines"] == ["Unit 1"]
