"""The tenant scope: one rule for the early context (limit keys, `require`) and the scope stage."""

from __future__ import annotations

import pytest

from mocks.contract import Contract
from mocks.scope import TenantScope
from mocks.types import MockError, MockRequest, Principal


def scope_in(where: dict[str, str]) -> TenantScope:
    return TenantScope(Contract({"x-mock-api": {"name": "unit"}, "x-mock-tenancy": {"scope": where},
                                 "paths": {}}))


def request(query: dict[str, list[str]] | None = None, headers: dict[str, str] | None = None) -> MockRequest:
    return MockRequest("GET", "/items", query or {}, headers or {})


CALLER = Principal("alice", ("t1", "t2"))


def test_a_query_scoped_contract_reads_the_scope_from_the_query_before_validation_too():
    scope = scope_in({"in": "query", "name": "tenant"})
    sent = request({"tenant": ["t2"]})
    assert scope.early({}, sent, CALLER) == "t2"  # not the caller's default, t1
    assert scope.resolve(scope.requested({}, sent), CALLER) == "t2"


def test_a_scope_the_caller_does_not_hold_is_refused():
    scope = scope_in({"in": "query", "name": "tenant"})
    with pytest.raises(MockError) as refused:
        scope.resolve(scope.requested({}, request({"tenant": ["t9"]})), CALLER)
    assert refused.value.code == "forbidden" and refused.value.field == "tenant"


def test_no_scope_named_is_the_callers_default():
    assert scope_in({"in": "query", "name": "tenant"}).resolve(None, CALLER) == "t1"
    principal_scoped = scope_in({"in": "principal"})
    assert principal_scoped.early({}, request(), CALLER) == "t1"


def test_path_and_header_scopes():
    assert scope_in({"in": "path", "name": "org"}).early({"org": "t2"}, request(), CALLER) == "t2"
    assert scope_in({"in": "header", "name": "x-tenant"}).requested({}, request(headers={"x-tenant": "t2"})) == "t2"
