"""The engine: one contract compiled once, and the pipeline every request goes through.

route -> authenticate -> limit -> fault -> validate -> act -> record. Read `Api.handle` top
down to follow a request.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from mocks.actions import Action, compile_action, compile_lookup
from mocks.auth import Authenticator
from mocks.chosen import chosen_response, preferred
from mocks.clock import Clock
from mocks.contract import Contract, Operation
from mocks.errors import ErrorCatalog
from mocks.eventloop import sleep_at_least
from mocks.events import EventBus
from mocks.exchange import Exchange
from mocks.faults import Fault, FaultBook, FaultError, parse_fault
from mocks.fixtures import Fixtures
from mocks.idempotency import Idempotency, Reservation
from mocks.journal import Journal, JournalEntry
from mocks.media import too_large
from mocks.ratelimit import Limiter, Policy
from mocks.rendering import ResponseRenderer
from mocks.resources import ResourceType
from mocks.routing import Router
from mocks.runtime import Runtime
from mocks.state.protocol import Store
from mocks.templates import compile_template
from mocks.types import MockError, MockRequest, MockResponse, Principal
from mocks.validation import RequestValidator
from mocks.webhooks import WebhookDispatcher

log = logging.getLogger("mocks")


@dataclass(slots=True)
class CompiledOperation:
    operation: Operation
    validator: RequestValidator
    action: Action
    renderer: ResponseRenderer
    policies: list[Policy]
    error_template: str | None
    magic: list[dict[str, Any]]
    requirements: list[tuple[Any, str, Any, str]] = field(default_factory=list)
    lookup: Any = None  # the record the operation acts on, found read-only (before a Prefer answer)


@dataclass(slots=True)
class Trace:
    """What the journal keeps of one exchange."""

    started: float
    arrived: float = 0.0  # on the mock clock: when the request reached the pipeline
    operation: CompiledOperation | None = None
    principal: Principal | None = None
    fault: Fault | None = None
    preferred: dict[str, Any] | None = None  # what a Prefer header chose (not a fault)
    headers: list[tuple[str, str]] = field(default_factory=list)
    release: list[str] = field(default_factory=list)


class Api:
    def __init__(self, contract: Contract, fixtures: Fixtures, store: Store, clock: Clock | None = None,
                 *, journal_size: int = 2000) -> None:
        self.contract = contract
        self.name = contract.name
        self.fixtures = fixtures
        self.store = store
        self.clock = clock or Clock()
        self.errors = ErrorCatalog(contract)
        self.resources = {name: ResourceType.declare(name, spec)
                          for name, spec in (contract.extension("resources") or {}).items()}
        self.auth = Authenticator(contract, fixtures, store)
        self.limiter = Limiter(contract, store)
        self.faults = FaultBook()
        self.journal = Journal(journal_size)
        self.events = EventBus()
        tenancy = contract.extension("tenancy") or {}
        self.scope_source: dict[str, str] = tenancy.get("scope") or {"in": "principal"}
        self.scope_mismatch: str = tenancy.get("mismatch", "forbidden")
        idempotency = contract.extension("idempotency")
        self.idempotency = Idempotency(idempotency, store) if idempotency else None
        self.versions = contract.extension("versions")
        self._default_version = compile_template(self.versions.get("default")) if self.versions else None
        self.cors = contract.extension("cors")
        self.runtime = Runtime(self.name, contract, fixtures, self.resources, store, self.clock, self.events, self.auth)
        self.webhooks = WebhookDispatcher(self.runtime)
        self.runtime.deliveries = self.webhooks
        self.operations: dict[str, CompiledOperation] = {}
        self.routers: dict[str, Router[CompiledOperation]] = {name: Router() for name in contract.listeners}
        for op in contract.operations:
            compiled = self._compile(op)
            self.operations[op.id] = compiled
            for name, listener in contract.listeners.items():
                tags = listener.get("tags")
                if not tags or set(tags) & set(op.tags):
                    self.routers[name].add(op.method, op.path, compiled)
        self.primary_listener = next(iter(contract.listeners))
        self.base_urls: dict[str, str] = {}  # listener -> URL, once a server has bound its ports
        self.seed()

    def _compile(self, op: Operation) -> CompiledOperation:
        scope_override = op.action.get("scope")
        compiled = CompiledOperation(
            operation=op,
            validator=RequestValidator(self.contract, op),
            action=compile_action(self.runtime, op),
            renderer=ResponseRenderer(self.contract, op, self.errors.xml_root),
            policies=self.limiter.for_operation(op.id),
            error_template=op.spec.get("x-mock-error-template"),
            magic=op.spec.get("x-mock-magic") or [],
            lookup=compile_lookup(self.runtime, op),
            requirements=[(compile_template(r["value"]), "equals" if "equals" in r else "in",
                           compile_template(r.get("equals", r.get("in"))), r["error"])
                          for r in op.action.get("require") or []],
        )
        if scope_override:
            compiled.operation.action = {**op.action, "_scope": compile_template(scope_override)}
        return compiled

    # state -------------------------------------------------------------------------------------
    def seed(self) -> None:
        for name, items in self.fixtures.resources.items():
            resource = self.resources.get(name)
            if resource is None:
                raise ValueError(f"fixtures for {self.name} seed unknown resource '{name}'")
            for item in items:
                item = dict(item)
                scope = item.pop("_scope", None)
                if scope is None and resource.scope_field:
                    scope = item.get(resource.scope_field)
                record = resource.seed_record(item, None if scope is None else str(scope),
                                              self.group_of(resource, scope))
                self.store.insert(name, resource.key(record["data"]), record, resource.index(record["data"]))

    def reset(self, *, seed: bool = True) -> None:
        self.store.reset()
        self.journal.clear()
        self.faults.clear()
        self.events.history.clear()
        self.webhooks.clear()
        self.limiter.restore()
        self._refresh_policies()
        if seed:
            self.seed()

    def group_of(self, resource: ResourceType, scope: str | None) -> Any:
        return self.runtime.group_of(resource, scope)

    # steering (admin API, scenarios, verifier) ---------------------------------------------------
    def add_fault(self, spec: dict[str, Any]) -> Fault:
        fault = parse_fault(spec)
        if fault.operation is not None and fault.operation not in self.operations:
            raise FaultError(f"no operation '{fault.operation}' in {self.name}; known: {', '.join(self.operations)}")
        respond = fault.respond or {}
        code, status = respond.get("code"), respond.get("status")
        if code is not None and code not in self.errors.codes:
            raise FaultError(f"no error code '{code}' in {self.name}; declared: {', '.join(self.errors.codes)}")
        if code is None and status is not None and not 200 <= int(status) < 300:
            try:
                self.errors.code_for(status)
            except KeyError:
                declared = sorted({str(e["status"]) for e in self.errors.codes.values()})
                raise FaultError(f"{self.name} declares no response with status {status}; "
                                 f"declared error statuses: {', '.join(declared)}") from None
        return self.faults.add(spec)

    def configure_limit(self, rate: str | None, policy: str | None = None, enabled: bool | None = None) -> list[Policy]:
        if rate is not None:
            chosen = self.limiter.configure(rate, policy)
        else:
            chosen = [p for p in self.limiter.policies if policy is None or p.name == policy]
        if not chosen:
            raise KeyError(policy)
        if enabled is not None:
            for p in chosen:
                p.enabled = bool(enabled)
        self._refresh_policies()
        return chosen

    def _refresh_policies(self) -> None:
        for compiled in self.operations.values():
            compiled.policies = self.limiter.for_operation(compiled.operation.id)

    async def start(self) -> None:
        """Start background work (webhook delivery) when a server starts."""
        await self.webhooks.start()

    async def stop(self) -> None:
        await self.webhooks.stop()

    # the pipeline --------------------------------------------------------------------------------
    async def handle(self, request: MockRequest) -> MockResponse:
        trace = Trace(started=time.perf_counter(), arrived=self.clock.now())
        try:
            response = await self._pipeline(request, trace)
        except MockError as error:
            response = self._error(error, request, trace)
        except Exception as exc:  # a defect of the mock: still answer in the API's own format
            log.exception("mock defect while handling %s %s", request.method, request.path)
            response = self._error(MockError("server_error", f"mock defect: {type(exc).__name__}: {exc}"),
                                   request, trace)
        finally:
            if trace.release:
                self.limiter.release(trace.release)
        response.headers.extend(trace.headers)
        self._record(request, trace, None if response.drop else response)
        return response

    async def _pipeline(self, request: MockRequest, trace: Trace) -> MockResponse:
        if request.oversized:
            raise MockError(self.errors.too_large, too_large(request.oversized), field="body")
        if self.cors and request.method == "OPTIONS" and request.header("access-control-request-method"):
            return self._preflight(request)
        compiled, path_params = self._route(request)
        trace.operation = compiled
        op = compiled.operation
        now = self.clock.now()
        principal, presented = self.auth.authenticate(op.security, request, now)
        trace.principal = principal
        early = self._early_context(request, path_params, principal) if compiled.requirements or compiled.policies \
            else None
        if compiled.requirements:
            _require(compiled.requirements, early)
        self._version(request, principal, trace)
        if compiled.policies:
            headers, trace.release = self.limiter.check(compiled.policies, early, now, request.client)
            trace.headers.extend(headers)
        fault = self.faults.pick(op.id, request, principal)
        trace.fault = fault
        if fault is not None:
            if fault.drop == "before":
                return MockResponse.dropped()
            if fault.expire_credentials:
                self.auth.revoke(presented)
            if fault.respond is not None:
                if fault.latency:
                    await sleep_at_least(fault.latency)
                return chosen_response(self, compiled, fault.respond, request, fault)

        exchange = Exchange(runtime=self.runtime, request=request, operation=op, path=path_params, now=now, principal=principal)
        self._validate(compiled, exchange, path_params)
        self._scope(compiled, exchange)
        trace.preferred = preferred(request) if fault is None else None
        if trace.preferred is not None:
            if compiled.lookup is not None:
                compiled.lookup(exchange)  # another tenant's or a missing record stays a 404
            return chosen_response(self, compiled, trace.preferred, request)
        if compiled.magic:
            exchange.check_magic = lambda: self._magic(compiled, exchange)
            if op.action.get("kind") not in _CHECKS_MAGIC_ITSELF:
                exchange.check_magic()
        owner = exchange.scope or (principal.id if principal else None)
        reservation = self.idempotency.begin(request, owner, now) if self.idempotency else None
        if isinstance(reservation, MockResponse):
            return reservation
        response = None
        try:
            if fault is not None and fault.latency:
                await sleep_at_least(fault.latency)
            response = await self._act(compiled, exchange)
        except MockError as error:
            response = self._error(error, request, trace)
            raise
        finally:
            if isinstance(reservation, Reservation):
                self.idempotency.finish(reservation, response, now)
        if fault is not None and fault.drop == "after":
            return MockResponse.dropped()
        return response

    def _route(self, request: MockRequest) -> tuple[CompiledOperation, dict[str, str]]:
        router = self.routers.get(request.listener) or self.routers[self.primary_listener]
        match = router.match(request.method, request.path)
        if match is None:
            raise MockError("not_found", f"no such path: {request.path}")
        if match.target is None:
            raise MockError("method_not_allowed", f"{request.method} is not allowed here",
                            headers=[("Allow", ", ".join(match.allowed))])
        return match.target, match.params

    def _version(self, request: MockRequest, principal: Principal | None, trace: Trace) -> None:
        if not self.versions:
            return
        header = self.versions["header"]
        version = request.header(header)
        if version is None:
            context = {"principal": {**(principal.attributes if principal else {})}}
            version = self._default_version(context) if self._default_version else None
            version = version or self.versions.get("current")
        elif version not in self.versions.get("known", ()):
            raise MockError(self.versions.get("unknown", "invalid_request"),
                            f"unknown API version '{version}'; known: {', '.join(self.versions['known'])}",
                            field=header)
        trace.headers.append((header, str(version)))

    def _early_context(self, request: MockRequest, path: dict[str, str], principal: Principal | None) -> dict:
        """What preconditions and rate-limit keys may read: the request as sent, before validation."""
        source = self.scope_source
        if source.get("in") == "path":
            scope = path.get(source["name"])
        elif source.get("in") == "header":
            scope = request.header(source["name"])
        else:
            scope = principal.default_scope if principal else None
        return {"path": path, "header": request.headers, "query": {k: v[0] for k, v in request.query.items() if v},
                "principal": {**principal.attributes, "id": principal.id} if principal else {}, "scope": scope}

    def _validate(self, compiled: CompiledOperation, exchange: Exchange, path_params: dict[str, str]) -> None:
        values, problems = compiled.validator.parameters_of(exchange.request, path_params)
        body, media_type, body_problems = compiled.validator.body_of(exchange.request)
        problems += body_problems
        if problems:
            first = problems[0]
            raise MockError("invalid_request", first.message, field=first.field)
        exchange.path = {**path_params, **values["path"]}
        exchange.query, exchange.headers = values["query"], values["header"]
        exchange.body, exchange.media_type = body, media_type

    def _scope(self, compiled: CompiledOperation, exchange: Exchange) -> None:
        principal = exchange.principal
        override = compiled.operation.action.get("_scope")
        source = self.scope_source
        if override is not None:
            scope = override(exchange.context())
        elif source.get("in") == "path":
            scope = exchange.path.get(source["name"])
        elif source.get("in") == "header":
            scope = exchange.request.header(source["name"])
        elif source.get("in") == "query":
            scope = (exchange.request.query.get(source["name"]) or [None])[0]
        else:
            scope = None
        if scope is None:
            exchange.scope = principal.default_scope if principal else None
        else:
            scope = str(scope)
            if principal is not None and scope not in principal.scopes:
                raise MockError(self.scope_mismatch, f"no access to '{scope}'", field=source.get("name"))
            exchange.scope = scope
        exchange.forget_context()

    def _magic(self, compiled: CompiledOperation, exchange: Exchange) -> None:
        for rule in compiled.magic:
            value = _pointer(exchange.body, rule["pointer"])
            code = rule.get("values", {}).get(str(value)) if value is not None else None
            if code is not None:
                raise MockError(code, field=rule["pointer"].strip("/").replace("/", "."))

    async def _act(self, compiled: CompiledOperation, exchange: Exchange) -> MockResponse:
        result = await compiled.action(exchange)
        if result.raw is not None:
            return result.raw
        return compiled.renderer.render(result.status, result.body, exchange.request.header("accept"),
                                        result.headers)

    # responses ---------------------------------------------------------------------------------
    def _error(self, error: MockError, request: MockRequest, trace: Trace) -> MockResponse:
        template = trace.operation.error_template if trace.operation else None
        try:
            return self.errors.response(error, accept=request.header("accept"), template=template)
        except KeyError:
            return self.errors.response(MockError("server_error", f"undeclared error code '{error.code}'"))

    def _preflight(self, request: MockRequest) -> MockResponse:
        cors = self.cors
        response = MockResponse(204)
        response.add_header("Access-Control-Allow-Methods", ", ".join(cors.get("allow-methods", [
            "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])))
        response.add_header("Access-Control-Allow-Headers", ", ".join(cors.get("allow-headers", [])))
        response.add_header("Access-Control-Max-Age", cors.get("max-age", 600))
        return response

    def finish_cors(self, request: MockRequest, response: MockResponse) -> None:
        origin = request.header("origin")
        if not self.cors or not origin:
            return
        allowed = self.cors.get("allow-origins", ["*"])
        if "*" in allowed or origin in allowed:
            response.add_header("Access-Control-Allow-Origin", "*" if "*" in allowed else origin)
            response.add_header("Vary", "Origin")
            if self.cors.get("expose-headers"):
                response.add_header("Access-Control-Expose-Headers", ", ".join(self.cors["expose-headers"]))

    def _record(self, request: MockRequest, trace: Trace, response: MockResponse | None) -> None:
        if response is not None:
            self.finish_cors(request, response)
        op = trace.operation.operation if trace.operation else None
        self.journal.record(JournalEntry(
            time=self.clock.now(), arrived=trace.arrived, request=request, response=response,
            operation=op.id if op else None, principal=trace.principal.id if trace.principal else None,
            fault=trace.fault, duration=time.perf_counter() - trace.started, preferred=trace.preferred,
        ))


_CHECKS_MAGIC_ITSELF = frozenset({"create", "update", "transition"})  # after their own preconditions


def _require(requirements: list[tuple[Any, str, Any, str]], context: dict[str, Any]) -> None:
    for value, relation, expected, error in requirements:
        have, wanted = value(context), expected(context)
        if relation == "equals":
            ok = have is not None and str(have) == str(wanted)
        else:
            ok = have is not None and str(have) in {str(v) for v in (wanted or [])}
        if not ok:
            raise MockError(error, f"'{have}' is not allowed for this caller")


def _pointer(value: Any, pointer: str) -> Any:
    for part in pointer.strip("/").split("/"):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value

