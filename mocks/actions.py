"""Act: what an operation does to state, compiled from its `x-mock-action`."""

from __future__ import annotations

import importlib
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from mocks.examples import first_example
from mocks.exchange import Exchange, Result
from mocks.listing import Filter, compile_list
from mocks.resources import ResourceType
from mocks.stages import CHECKS_MAGIC_ITSELF, MagicCheck, compile_magic
from mocks.state.changes import Change, Guard
from mocks.templates import compile_template
from mocks.types import MockError

if TYPE_CHECKING:
    from mocks.contract import Operation
    from mocks.runtime import Runtime

Action = Callable[[Exchange], Awaitable[Result]]


def compile_action(runtime: Runtime, operation: Operation) -> Action:
    spec = operation.action or {"kind": "static"}
    kind = spec.get("kind", "static")
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise ValueError(f"{operation.id}: unknown x-mock-action kind '{kind}'")
    magic = compile_magic(operation)
    if kind in CHECKS_MAGIC_ITSELF:
        return builder(runtime, operation, spec, magic=magic)
    action = builder(runtime, operation, spec)
    if magic is None:
        return action

    async def magic_then_act(exchange: Exchange) -> Result:
        magic(exchange.body)
        return await action(exchange)

    return magic_then_act


def _resource(runtime: Runtime, operation: Operation, spec: dict[str, Any]) -> ResourceType:
    name = spec.get("resource")
    if name not in runtime.resources:
        raise ValueError(f"{operation.id}: x-mock-action names unknown resource '{name}'")
    return runtime.resources[name]


def _response(spec: dict[str, Any], default: str = "{resource}"):
    """(exchange, resource) -> the answer body; the common `{resource}` answer needs no template context."""
    template = spec.get("response", default)
    if template == "{resource}":
        return lambda exchange, resource: resource
    render = compile_template(template)
    return lambda exchange, resource: render(exchange.context(resource=resource))


def _matcher(spec: dict[str, Any]):
    """context -> a test of a record's data against the rendered `filter` (None: no filter declared)."""
    if not spec.get("filter"):
        return None
    where = Filter(spec["filter"])
    return lambda context: Filter.test(where.wanted(context))


def _finder(runtime: Runtime, operation: Operation, spec: dict[str, Any], resource: ResourceType):
    id_param = spec.get("id-param")
    match_field = spec.get("match-field", resource.id_field)
    matches = _matcher(spec)

    def find(exchange: Exchange):
        value = exchange.path.get(id_param) if id_param else None
        if value is None:
            raise MockError("not_found", f"{resource.name} not found")
        if match_field == resource.id_field:
            record = runtime.store.get(resource.name, str(value))
        elif match_field in resource.also:
            record = runtime.store.find(resource.name, match_field, str(value))
        else:
            record = next((r for r in runtime.store.scan(resource.name) if str(r["data"].get(match_field)) == str(value)),
                          None)
        if (record is None or not resource.visible(record, exchange.scope, runtime.group_of(resource, exchange.scope))
                or (matches is not None and not matches(exchange.context())(record["data"]))):
            raise MockError("not_found", f"no {resource.name} '{value}'", field=id_param)
        return record

    return find


def compile_lookup(runtime: Runtime, operation: Operation) -> Callable[[Exchange], dict[str, Any]] | None:
    """The read-only lookup of the record an operation acts on (its 404), or None when it names none."""
    spec = operation.action or {}
    if not spec.get("id-param") or spec.get("resource") not in runtime.resources:
        return None
    return _finder(runtime, operation, spec, runtime.resources[spec["resource"]])


def _create(runtime: Runtime, operation: Operation, spec: dict[str, Any], magic: MagicCheck | None = None) -> Action:
    resource = _resource(runtime, operation, spec)
    assign = compile_template(spec.get("set") or {})
    has_assignments = bool(spec.get("set"))
    respond = _response(spec)
    status = int(spec.get("status", operation.success_status))

    async def create(exchange: Exchange) -> Result:
        if magic is not None:
            magic(exchange.body)
        data = dict(exchange.body) if isinstance(exchange.body, dict) else {}  # parsed for this request only
        if has_assignments:
            data.update({k: v for k, v in assign(exchange.context()).items() if v is not None})
        public = runtime.create(resource, data, exchange.scope, exchange.principal_id, exchange.now)
        return Result(status, respond(exchange, public))

    return create


def _get(runtime: Runtime, operation: Operation, spec: dict[str, Any]) -> Action:
    resource = _resource(runtime, operation, spec)
    find = _finder(runtime, operation, spec, resource)
    respond = _response(spec)
    status = int(spec.get("status", operation.success_status))

    async def get(exchange: Exchange) -> Result:
        return Result(status, respond(exchange, resource.public(find(exchange))))

    return get


def _update(runtime: Runtime, operation: Operation, spec: dict[str, Any], to: str | None = None,
            magic: MagicCheck | None = None) -> Action:
    resource = _resource(runtime, operation, spec)
    find = _finder(runtime, operation, spec, resource)
    respond = _response(spec)
    assign = compile_template(spec.get("set") or {})
    has_assignments = bool(spec.get("set"))
    status = int(spec.get("status", operation.success_status))
    life = resource.lifecycle
    if to is not None and life is None:
        raise ValueError(f"{operation.id}: transition on '{resource.name}', which declares no lifecycle")

    async def update(exchange: Exchange) -> Result:
        found = find(exchange)
        changes = dict(exchange.body) if isinstance(exchange.body, dict) and to is None else {}
        if has_assignments:
            changes.update({k: v for k, v in assign(exchange.context()).items() if v is not None})
        if to is not None:
            changes[life.field] = to
        changes.pop(resource.id_field, None)
        if life and life.field in changes:
            life.check(found["data"].get(life.field), changes[life.field])  # a conflict outranks a decline
        if magic is not None:
            magic(exchange.body)
        guarded = life is not None and life.field in changes
        change = Change({**changes, **resource.stamps(exchange.now, created=False)},
                        Guard(life.field, life.sources(changes[life.field])) if guarded else None)
        updated = runtime.store.update(resource.name, resource.key(found["data"]), change)
        if updated is None:
            raise MockError("not_found", f"{resource.name} was deleted")
        if not updated.applied:  # the state moved since the check above: judged again, as it is now
            life.check(updated.record["data"].get(life.field), changes[life.field])
        record, before = updated.record, updated.before["data"]
        runtime.emit(resource, "updated", record, exchange.principal_id, exchange.now)
        if life and before.get(life.field) != record["data"].get(life.field):
            runtime.emit(resource, "status-changed", record, exchange.principal_id, exchange.now)
            runtime.emit(resource, str(record["data"].get(life.field)), record, exchange.principal_id, exchange.now)
        return Result(status, respond(exchange, resource.public(record)))

    return update


def _transition(runtime: Runtime, operation: Operation, spec: dict[str, Any],
                magic: MagicCheck | None = None) -> Action:
    return _update(runtime, operation, spec, to=spec["to"], magic=magic)


def _delete(runtime: Runtime, operation: Operation, spec: dict[str, Any]) -> Action:
    resource = _resource(runtime, operation, spec)
    find = _finder(runtime, operation, spec, resource)
    respond = _response(spec, default="{resource}")
    status = int(spec.get("status", operation.success_status))

    async def delete(exchange: Exchange) -> Result:
        record = find(exchange)
        runtime.store.delete(resource.name, resource.key(record["data"]))
        runtime.emit(resource, "deleted", record, exchange.principal_id, exchange.now)
        body = None if status == 204 else respond(exchange, resource.public(record))
        return Result(status, body)

    return delete


def _list(runtime: Runtime, operation: Operation, spec: dict[str, Any]) -> Action:
    return compile_list(runtime, _resource(runtime, operation, spec), spec, int(spec.get("status", operation.success_status)))


def _static(runtime: Runtime, operation: Operation, spec: dict[str, Any]) -> Action:
    status = int(spec.get("status", operation.success_status))
    if "response" in spec:
        respond = compile_template(spec["response"])
    else:
        example = first_example(runtime.contract, operation, status)
        respond = compile_template(example)

    async def static(exchange: Exchange) -> Result:
        return Result(status, respond(exchange.context()))

    return static


def _issue_credential(runtime: Runtime, operation: Operation, spec: dict[str, Any]) -> Action:
    grant = compile_template(spec.get("grant") or {})
    issue = compile_template(spec.get("issue") or {})
    respond = compile_template(spec.get("response", {"token": "{token}"}))
    ttl = spec.get("ttl")
    failure = spec.get("error", "unauthorized")
    status = int(spec.get("status", operation.success_status))

    async def issue_credential(exchange: Exchange) -> Result:
        offered = grant(exchange.context())
        match = next((c for c in runtime.fixtures.credentials
                      if c.grant and all(str(c.grant.get(k)) == str(v) for k, v in offered.items())
                      and set(c.grant) == set(offered)), None)
        if match is None:
            raise MockError(failure)
        exchange.principal = match.principal
        exchange.forget_context()
        token = secrets.token_urlsafe(32)
        context = exchange.context(token=token, ttl=ttl)
        runtime.auth.issue(issue(context), match.principal, None if ttl is None else exchange.now + float(ttl),
                           exchange.now)
        return Result(status, respond(context))

    return issue_credential


def _handler(runtime: Runtime, operation: Operation, spec: dict[str, Any]) -> Action:
    module = importlib.import_module(f"mocks.apis.{runtime.contract.module or runtime.name}")
    function = getattr(module, spec["handler"], None)
    if function is None:
        raise ValueError(f"{operation.id}: {module.__name__} has no handler '{spec['handler']}'")
    resource = runtime.resources.get(spec.get("resource", ""))
    find = _finder(runtime, operation, spec, resource) if resource and spec.get("id-param") else None

    async def handle(exchange: Exchange) -> Result:
        return await function(exchange, find(exchange) if find else None)

    return handle


_BUILDERS = {
    "create": _create,
    "get": _get,
    "update": _update,
    "transition": _transition,
    "delete": _delete,
    "list": _list,
    "static": _static,
    "issue-credential": _issue_credential,
    "handler": _handler,
}
