"""The pipeline every request goes through. Read `Pipeline.handle`, then `_run`, top down.

route -> authenticate -> require -> version -> limit -> fault -> validate -> scope -> (Prefer) ->
act -> render -> record. Each stage is a call into its own module and returns data; nothing here
knows ASGI (that is `mocks/app.py`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from mocks.cors import Cors
from mocks.errors import ErrorCatalog
from mocks.eventloop import sleep_at_least
from mocks.exchange import Exchange
from mocks.faultbook import FaultBook
from mocks.faults import Fault
from mocks.idempotency import Idempotency, Reservation
from mocks.journal import Journal, JournalEntry
from mocks.media import too_large
from mocks.operations import CompiledOperation, Routes
from mocks.ratelimit import Limiter
from mocks.rendering import chosen_response, preferred
from mocks.runtime import Runtime
from mocks.scope import TenantScope
from mocks.stages import Versioning, check_requirements
from mocks.state import STORE_RETRY_AFTER, store_down
from mocks.state.protocol import Glance
from mocks.types import MockError, MockRequest, MockResponse, Principal

log = logging.getLogger("mocks")


@dataclass(slots=True)
class Trace:
    """What the journal keeps of one exchange, and what the request read first (`Store.glance`)."""

    started: float
    glance: Glance
    arrived: float = 0.0  # on the mock clock: when the request reached the pipeline
    operation: CompiledOperation | None = None
    principal: Principal | None = None
    fault: Fault | None = None
    preferred: dict[str, Any] | None = None  # what a Prefer header chose (not a fault)
    headers: list[tuple[str, str]] = field(default_factory=list)
    release: list[str] = field(default_factory=list)


class Pipeline:
    def __init__(self, runtime: Runtime, routes: Routes, errors: ErrorCatalog, limiter: Limiter, faults: FaultBook,
                 journal: Journal, idempotency: Idempotency | None) -> None:
        contract = runtime.contract
        self.runtime, self.routes, self.errors, self.limiter = runtime, routes, errors, limiter
        self.faults, self.journal, self.idempotency = faults, journal, idempotency
        self.clock, self.auth, self.store = runtime.clock, runtime.auth, runtime.store
        self.cors = Cors(contract.extension("cors"))
        self.versions = Versioning(contract)
        self.scope = TenantScope(contract)

    async def handle(self, request: MockRequest) -> MockResponse:
        try:
            return await self._handle(request)
        except Exception as exc:
            if not store_down(exc):
                raise
            # the shared store (Redis) is down, out of memory or read-only and refused a command whole:
            # the API's own 503 tells the client to retry soon
            log.warning("store unavailable while handling %s %s: %s", request.method, request.path, exc)
            return self.errors.respond(MockError("unavailable", "the sandbox's store is unavailable; retry shortly",
                                                 headers=[("Retry-After", STORE_RETRY_AFTER)]),
                                       accept=request.header("accept"))

    async def _handle(self, request: MockRequest) -> MockResponse:
        # one read of the clock, limit settings and faults: a shared store answers it in one round trip, and
        # every mock-clock time of this request (arrival, effects, the journal's) is taken on that reading
        glance = self.store.glance(self.clock.state)
        trace = Trace(started=time.perf_counter(), glance=glance, arrived=self.clock.now_of(glance.clock))
        try:
            response = await self._run(request, trace)
        except MockError as error:
            response = self._error(error, request, trace)
        except Exception as exc:  # a defect of the mock: still answer in the API's own format
            if store_down(exc):
                raise
            log.exception("mock defect while handling %s %s", request.method, request.path)
            response = self._error(MockError("server_error", f"mock defect: {type(exc).__name__}: {exc}"),
                                   request, trace)
        finally:
            if trace.release:
                self.limiter.release(trace.release)
        response.headers.extend(trace.headers)
        if not response.drop:
            self.cors.finish(request, response)  # before recording: the journal shows the CORS headers
        self._record(request, trace, None if response.drop else response)
        return response

    async def _run(self, request: MockRequest, trace: Trace) -> MockResponse:
        if request.oversized:
            raise MockError(self.errors.too_large, too_large(request.oversized), field="body")
        if (preflight := self.cors.preflight(request)) is not None:
            return preflight
        compiled, path_params = self.routes.match(request.listener, request.method, request.path)
        trace.operation = compiled
        op = compiled.operation
        now = self.clock.now_of(trace.glance.clock)
        principal, presented = self.auth.authenticate(op.security, request, now)
        trace.principal = principal
        early = self._early_context(request, path_params, principal) if compiled.needs_early else None
        if compiled.requirements:
            check_requirements(compiled.requirements, early)
        if version := self.versions.header(request, principal):
            trace.headers.append(version)
        if compiled.policies:
            headers, trace.release = self.limiter.check(compiled.policies, early, now, request.client,
                                                        trace.glance.limits)
            trace.headers.extend(headers)
        fault = trace.fault = self.faults.pick(op.id, request, principal, trace.glance.faults)
        if fault is not None:
            if fault.drop == "before":
                return MockResponse.dropped()
            if fault.expire_credentials:
                self.auth.revoke(presented)
            if fault.respond is not None:
                if fault.latency:
                    await sleep_at_least(fault.latency)
                return self._chosen(compiled, fault.respond, request, fault)

        exchange = Exchange(runtime=self.runtime, request=request, operation=op, path=path_params, now=now,
                            principal=principal)
        self._validate(compiled, exchange, path_params)
        requested = (compiled.scope_override(exchange.context()) if compiled.scope_override is not None
                     else self.scope.requested(exchange.path, request))
        exchange.scope = self.scope.resolve(requested, principal)
        exchange.forget_context()
        trace.preferred = preferred(request) if fault is None else None
        if trace.preferred is not None:
            if compiled.lookup is not None:
                compiled.lookup(exchange)  # another tenant's or a missing record stays a 404
            return self._chosen(compiled, trace.preferred, request)
        response = await self._act_once(compiled, exchange, fault, now, trace)
        if fault is not None and fault.drop == "after":
            return MockResponse.dropped()
        return response

    def _early_context(self, request: MockRequest, path: dict[str, str], principal: Principal | None) -> dict:
        """What preconditions and rate-limit keys may read: the request as sent, before validation."""
        return {"path": path, "header": request.headers, "query": {k: v[0] for k, v in request.query.items() if v},
                "principal": {**principal.attributes, "id": principal.id} if principal else {},
                "scope": self.scope.early(path, request, principal)}

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

    async def _act_once(self, compiled: CompiledOperation, exchange: Exchange, fault: Fault | None, now: float,
                        trace: Trace) -> MockResponse:
        """The action under the idempotency key (a replay answers from the stored response), after a latency."""
        owner = exchange.scope or exchange.principal_id
        reservation = self.idempotency.begin(exchange.request, owner, now) if self.idempotency else None
        if isinstance(reservation, MockResponse):
            return reservation
        response = None
        try:
            if fault is not None and fault.latency:
                await sleep_at_least(fault.latency)
            response = await self._act(compiled, exchange)
        except MockError as error:
            response = self._error(error, exchange.request, trace)
            raise
        finally:
            if isinstance(reservation, Reservation):
                self.idempotency.finish(reservation, response, now)
        return response

    async def _act(self, compiled: CompiledOperation, exchange: Exchange) -> MockResponse:
        result = await compiled.action(exchange)
        if result.raw is not None:
            return result.raw
        return compiled.renderer.render(result.status, result.body, exchange.request.header("accept"),
                                        result.headers)

    def _chosen(self, compiled: CompiledOperation, respond: dict[str, Any], request: MockRequest,
                fault: Fault | None = None) -> MockResponse:
        return chosen_response(self.errors, compiled.renderer, compiled.operation, self.runtime.contract, respond,
                               request, error_template=compiled.error_template,
                               retry_after=fault.retry_after if fault is not None else None, fault=fault is not None)

    def _error(self, error: MockError, request: MockRequest, trace: Trace) -> MockResponse:
        template = trace.operation.error_template if trace.operation else None
        return self.errors.respond(error, accept=request.header("accept"), template=template)

    def _record(self, request: MockRequest, trace: Trace, response: MockResponse | None) -> None:
        op = trace.operation.operation if trace.operation else None
        self.journal.record(JournalEntry(
            time=self.clock.now_of(trace.glance.clock), arrived=trace.arrived, request=request, response=response,
            operation=op.id if op else None, principal=trace.principal.id if trace.principal else None,
            fault=trace.fault, duration=time.perf_counter() - trace.started, preferred=trace.preferred,
        ))
