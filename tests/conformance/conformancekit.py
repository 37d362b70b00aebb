"""Schemathesis conformance of the five mock APIs, in-process (helpers; see conftest.py for why here).

Every operation of every API is driven by Schemathesis (the installed 4.x) through its pytest
integration: the examples, coverage and fuzzing phases with positive and negative data
(`@schema.parametrize()`), and the stateful phase that follows the contract's OpenAPI links
(`stateful_test_case()`, around `schema.as_state_machine()`). All built-in checks are on
(Schemathesis' default); `positive_data_acceptance` is made stricter, see `conformance_schema`.

`conformance_schema()` is the shared helper. It

- builds the API as `mocks.registry.build_app` does (`MockApp(api, listener)`), keeping the `Api`
  to raise its rate limits first (`Api.configure_limit`) and to keep outgoing webhooks in-process;
- loads the contract from the mock's own admin endpoint `/__mock/openapi.json` with
  `schemathesis.openapi.from_asgi` and attaches the ASGI app of the listener under test;
- authenticates through Schemathesis' OpenAPI-aware auth (`[auth.openapi]`) with the first
  sandbox credential of the API's fixtures (the `store`-like scope schemes included), so positive
  cases reach the business logic;
- installs `Pin`s as a Schemathesis `map_case` hook: the tenant scope in the path (SiteId,
  companyId) becomes the credential's own, a login or token grant the fixture's real one, id
  parameters of read operations often a seeded record; only schema-valid values are replaced,
  so negative data stays negative;
- makes the run reproducible (`deterministic` generation, fixed seed, no example database) and
  resets the sandbox before every unit-phase case and every stateful scenario.

A module calls it at import time. When an API cannot be loaded (a missing handler module, a
contract that does not compile) the module gets one failing test that says why, instead of a
collection error that would hide the other APIs.
"""

from __future__ import annotations

import copy
import os
import traceback
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonschema_rs
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.meta import TestPhase

from mocks.app import MockApp
from mocks.engine import Api
from mocks.fixtures import Credential
from mocks.registry import load_api

# Budget per operation and phase. The whole suite must fit a CI budget on 2 cores; the values can be
# raised locally: CONFORMANCE_MAX_EXAMPLES=200 CONFORMANCE_STATEFUL_EXAMPLES=100 pytest tests/conformance
MAX_EXAMPLES = int(os.environ.get("CONFORMANCE_MAX_EXAMPLES", "30"))
STATEFUL_EXAMPLES = int(os.environ.get("CONFORMANCE_STATEFUL_EXAMPLES", "25"))
STATEFUL_MAX_STEPS = int(os.environ.get("CONFORMANCE_STATEFUL_STEPS", "8"))
SEED = int(os.environ.get("CONFORMANCE_SEED", "20250425"))

# Far above anything a conformance run sends: the limits stay in force (and their headers are
# still checked against the contract), they just never answer 429 to the fuzzer.
RAISED_RATE = "100000/s"


LOADED: list[Conformance] = []  # every API loaded in this process, for the summary in conftest.py


@dataclass(frozen=True)
class Pin:
    """Put the caller's own value where the contract allows any value but the API needs this one.

    `where` is `path`, `query`, `header` or `body`; `name` is the parameter name, or for `body` a
    JSON pointer (`/siteId`; `*` stands for every item of an array: `/line_items/*/product`).
    `value` may be a function of the generated value, called for each replacement (a fresh
    Idempotency-Key, one of the seeded ids: see `fresh_uuids` and `some_of`). `operations` limits
    the pin to these operation ids (default: all).

    A pin replaces only a value that is present and valid for its schema, and the case is
    revalidated by Schemathesis afterwards: a negative value (a SiteId that is no UUID, a secret
    over its maxLength) is left alone, so negative data keeps exercising the API's validation.
    """

    where: str
    name: str
    value: Any
    operations: tuple[str, ...] = ()
    # False: not in the stateful phase, where an id parameter is what a link extracted from an
    # earlier response (overriding it would break the scenario and fool its checks).
    stateful: bool = True

    def resolve(self, generated: Any) -> Any:
        return self.value(generated) if callable(self.value) else self.value


def fresh_uuids(prefix: str = "5c4e") -> Callable[[Any], str]:
    """A new version-4-shaped UUID on every call, the same sequence in every run (reproducible)."""
    counter = iter(range(1, 1 << 48))
    return lambda _generated: f"{prefix}0000-0000-4000-8000-{next(counter):012x}"


def some_of(values: list[Any]) -> Callable[[Any], Any]:
    """One of `values`, or the generated value itself, chosen by the generated value (deterministic).

    Pinning an id parameter of a read operation to seeded records makes positive cases read real
    fixtures (so their rendering is checked against the response schema) while a share of cases
    keeps its generated id and still exercises the 404 path. Use it with `Pin(..., stateful=False)`.
    """
    choices = list(values)

    def choose(generated: Any) -> Any:
        index = zlib.crc32(repr(generated).encode()) % (len(choices) + 1)
        return generated if index == len(choices) else choices[index]

    return choose


def seeded(api: Api, resource: str, scope: str | None = None, field: str | None = None) -> list[Any]:
    """Values of `field` (default the id) of the fixtures' `resource` records in `scope` (default all)."""
    kind = api.resources[resource]
    field = field or kind.id_field
    out = []
    for item in api.fixtures.resources.get(resource, []):
        owner = item.get("_scope", item.get(kind.scope_field) if kind.scope_field else None)
        if scope is None or str(owner) == str(scope):
            out.append(item[field])
    if not out:
        raise LookupError(f"fixtures/{api.name}: no {resource} in scope {scope!r}")
    return out


@dataclass
class Conformance:
    """One API (one listener of it) under Schemathesis."""

    name: str
    listener: str
    api: Api
    app: MockApp
    schema: Any  # schemathesis.specs.openapi.schemas.OpenApiSchema
    credential: Credential
    pins: list[Pin] = field(default_factory=list)
    # operation id -> status code -> how many responses Schemathesis saw (its `after_call` hook)
    statuses: defaultdict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    failed: bool = False  # a check failed somewhere in this API's run (reported by that test)

    def call_and_validate(self, case: Any, **options: Any) -> Any:
        """One unit-phase case against the sandbox fixtures: the state is reset first, so every case
        (and every Hypothesis replay of it) meets the same data, whatever earlier cases deleted."""
        self.api.reset()
        try:
            return case.call_and_validate(**options)
        except BaseException:
            self.failed = True
            raise

    @property
    def label(self) -> str:
        return self.name if self.listener == self.api.primary_listener else f"{self.name}.{self.listener}"

    def reached_business_logic(self) -> None:
        """Every operation Schemathesis called answered 2xx at least once: the credentials, pins and
        raised limits let positive data through, so the other checks judged real behaviour."""
        never = {op: dict(counts) for op, counts in self.statuses.items()
                 if not any(200 <= status < 300 for status in counts)}
        if never and self.failed:
            pytest.skip(f"{self.label}: a check failed earlier (reported by its test) and stopped that test's "
                        f"generation, so these may not have been reached: {sorted(never)}")
        assert not never, f"{self.label}: operations that never answered 2xx during the run: {never}"


def credential_of(api: Api, principal: str | None = None) -> Credential:
    credentials = api.fixtures.credentials
    if not credentials:
        raise LookupError(f"fixtures/{api.name}/sandbox.yaml has no credentials")
    if principal is None:
        return credentials[0]
    return next(c for c in credentials if c.principal.id == principal)


def static_auth(api: Api, credential: Credential, scope: str | None = None) -> dict[str, dict[str, str]]:
    """`[auth.openapi]` entries for the credential's static scheme values.

    A scheme that carries the tenant scope (`x-mock-scope`, Lagerkoll's `store` header) gets the
    credential's default scope (or `scope`), so Schemathesis sends it with the rest of the credential.
    """
    out: dict[str, dict[str, str]] = {}
    for name, scheme in api.contract.security_schemes.items():
        if scheme.get("x-mock-scope"):
            out[name] = {"api_key": str(scope or credential.principal.default_scope or "")}
    for name, value in credential.schemes.items():
        scheme = api.contract.security_schemes.get(name) or {}
        if scheme.get("x-mock-scope"):
            continue
        kind = scheme.get("type")
        if kind == "apiKey":
            out[name] = {"api_key": str(value)}
        elif kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            username, _, password = str(value).partition(":")
            out[name] = {"username": username, "password": password}
        else:  # http bearer, oauth2, openIdConnect
            out[name] = {"bearer": str(value)}
    return out


def keep_webhooks_in_process(api: Api) -> None:
    """Outgoing webhooks (Konducter events, Lagerkoll executions) are answered 204 in-process.

    The fuzzer sets handler URLs and executes webhooks by the hundred; the mock's dispatcher
    would POST each to its real URL, i.e. to generated hosts on the internet. Its transport is
    swapped for one that never leaves the process; queueing, signing, retries and the record of
    attempts stay the mock's own code.
    """
    api.webhooks.transport = httpx.MockTransport(lambda request: httpx.Response(204))


def conformance_schema(
    name: str,
    *,
    listener: str | None = None,
    tags: list[str] | None = None,
    principal: str | None = None,
    pins: list[Pin] | Callable[[Api, Credential], list[Pin]] | None = None,
    checks: dict[str, Any] | None = None,
) -> Conformance:
    """The API `name` (its `listener`, default the primary one) loaded into Schemathesis.

    `principal` picks the sandbox credential (default: the fixtures' first). `pins` (or a function
    of the Api and the credential returning them) are installed as a Schemathesis `map_case` hook
    on the schema, so they act in every phase (stateful too, unless `Pin.stateful` is False).
    `checks` merges into the `[checks]` config (for local experiments; the suite uses none).
    """
    api = load_api(name)
    api.configure_limit(RAISED_RATE)
    # `Api.reset()` (before every case and scenario, below) restores the limiter's baseline: make
    # the raised limits the baseline, as `mocks serve --limit` does for its start-up overrides.
    api.limiter.keep_as_baseline()
    keep_webhooks_in_process(api)
    credential = credential_of(api, principal)
    listener = listener or api.primary_listener
    app = MockApp(api, listener)

    pinned = pins(api, credential) if callable(pins) else list(pins or [])
    config_data: dict[str, Any] = {
        "seed": SEED,
        "generation": {"deterministic": True, "database": "none", "max-examples": MAX_EXAMPLES},
        "checks": {
            # Strict acceptance: the defaults also accept 401/403/429/5xx for valid data, which would
            # hide exactly what this suite pins down (valid credentials, the caller's own scope,
            # raised limits). 404 stays (a generated id that names nothing), and 409 (an order
            # status change the lifecycle forbids is valid data for the schema).
            "positive_data_acceptance": {"expected-statuses": ["2xx", "404", "409"]},
            **(checks or {}),
        },
        "auth": {"openapi": static_auth(api, credential)},
    }
    config = SchemathesisConfig.from_dict(config_data)
    schema = schemathesis.openapi.from_dict(frames_as_event_schemas(api.contract.document), config=config)
    schema.app = app
    if tags:
        schema = schema.include(tag=tags)
    if pinned:
        schema.hooks.register_hook_with_name(_pin_hook(api, schema, pinned), "map_case")
    conformance = Conformance(name, listener, api, app, schema, credential, pinned)

    def after_call(context: Any, case: Any, response: Any) -> None:
        conformance.statuses[schema.get_operation_id(case.operation)][response.status_code] += 1

    schema.hooks.register_hook_with_name(after_call, "after_call")
    schema.hooks.register_hook_with_name(_xml_filter(api), "filter_failure")
    schema.hooks.register_hook_with_name(_deleted_elsewhere_filter(api), "filter_failure")
    LOADED.append(conformance)
    return conformance


def frames_as_event_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """The contract as Schemathesis reads OpenAPI 3.1 event streams: a `text/event-stream` schema per event.

    The contract gives 3.1 tools a string schema for the whole stream and names the schema of one
    event under `x-mock-event-frame`; Schemathesis applies `schema` to each event, so here the frame
    schema takes its place and every frame the mock writes is checked against it.
    """
    document = copy.deepcopy(document)
    for item in (document.get("paths") or {}).values():
        for operation in item.values():
            for response in (operation.get("responses") or {}).values() if isinstance(operation, dict) else ():
                stream = (response.get("content") or {}).get("text/event-stream") or {}
                if "x-mock-event-frame" in stream:
                    stream["schema"] = stream["x-mock-event-frame"]
    return document


def _pin_hook(api: Api, schema: Any, pins: list[Pin]) -> Callable[[Any, Any], Any]:
    contract = api.contract
    validators: dict[tuple[str, str, str], Any] = {}

    def validator(operation_id: str, where: str, name: str) -> Any:
        key = (operation_id, where, name)
        if key not in validators:
            op = contract.operation(operation_id)
            if where == "body":
                content = (op.request_body or {}).get("content") or {}
                media = next(iter(content.values()), {})
                target: Any = media.get("schema") or {}
                for part in name.strip("/").split("/"):
                    target = contract.resolve(target)
                    target = target.get("items", {}) if part == "*" else (target.get("properties") or {}).get(part, {})
            else:
                parameter = next((p for p in op.parameters if p["name"] == name and p["in"] == where), {})
                target = parameter.get("schema") or {}
            validators[key] = jsonschema_rs.validator_for(contract.rooted(target), validate_formats=True)
        return validators[key]

    def map_case(context: Any, case: Any) -> Any:
        operation_id = schema.get_operation_id(case.operation)
        stateful = case.meta is not None and case.meta.phase.name == TestPhase.STATEFUL
        for pin in pins:
            if pin.operations and operation_id not in pin.operations:
                continue
            if stateful and not pin.stateful:
                continue
            if pin.where == "body":
                for parent, leaf in _parents_of(case.body, pin.name):
                    if leaf in parent and validator(operation_id, "body", pin.name).is_valid(parent[leaf]):
                        parent[leaf] = pin.resolve(parent[leaf])
                continue
            container = {"path": case.path_parameters, "query": case.query, "header": case.headers}[pin.where]
            if not container or pin.name not in container:
                continue
            value = container[pin.name]
            if validator(operation_id, pin.where, pin.name).is_valid(value):
                container[pin.name] = pin.resolve(value)
        return case

    return map_case


def _xml_filter(api: Api) -> Callable[[Any, Any, Any, Any], bool]:
    """Drop one false "schema-violating request accepted": a negative XML body that is valid as sent.

    Schemathesis negates a JSON value (`featureMethod: null`, a number where a string belongs) and
    then serializes it to XML, where every leaf is text: `<featureMethod>null</featureMethod>` is
    the valid string "null". It already forgives this for text/plain and form bodies
    (`_body_negation_becomes_valid_after_serialization` in schemathesis/specs/openapi/checks.py),
    not for XML. This hook keeps the failure unless the bytes actually sent, read the way the
    contract's XML mapping reads them (element name = field name, leaves typed by the schema), are
    valid for the body schema - checked here with the contract's schema, not the mock's validator -
    and the body was the only negative part of the request.
    """
    from schemathesis.core.failures import AcceptedNegativeData
    from schemathesis.core.parameters import ParameterLocation

    from mocks.contract import inline_schema
    from mocks.media import parse_xml
    from mocks.types import MockError

    contract = api.contract

    def keep(context: Any, failure: Any, case: Any, response: Any) -> bool:
        if not isinstance(failure, AcceptedNegativeData) or "xml" not in (case.media_type or ""):
            return True
        meta = case.meta
        if meta is None or any(info.mode.is_negative for where, info in meta.components.items()
                               if where != ParameterLocation.BODY):
            return True
        sent = response.request.body
        operation = contract.operation(case.operation.schema.get_operation_id(case.operation))
        media = ((operation.request_body or {}).get("content") or {}).get(case.media_type) or {}
        body_schema = media.get("schema")
        if not sent or body_schema is None:
            return True
        try:
            value = parse_xml(sent if isinstance(sent, bytes) else str(sent).encode(),
                              inline_schema(contract, body_schema))
        except MockError:
            return True
        return not jsonschema_rs.validator_for(contract.rooted(body_schema), validate_formats=True).is_valid(value)

    return keep


def _deleted_elsewhere_filter(api: Api) -> Callable[[Any, Any, Any, Any], bool]:
    """Drop one false "created resource not found": the resource was deleted through another route.

    `ensure_resource_availability` forgives a 404 after a successful DELETE only when the DELETE's
    path is a prefix of the 404'd one (`resource_was_deleted` in schemathesis/specs/openapi/
    checks.py). Ping Network serves one session store under two route versions, so
    `DELETE /customer/v1/sessions/X` (204) followed by `GET /customer/v2/sessions/X` (404) is right,
    yet reported. This hook keeps the failure unless the mock's journal - which holds exactly the
    current scenario, since each scenario starts with a reset - shows a 2xx DELETE of a path that
    carries every path-parameter value of the failing request.
    """
    from schemathesis.openapi.checks import EnsureResourceAvailability

    def keep(context: Any, failure: Any, case: Any, response: Any) -> bool:
        if not isinstance(failure, EnsureResourceAvailability) or not case.path_parameters:
            return True
        values = {str(v) for v in case.path_parameters.values()}
        for entry in api.journal.entries():
            segments = set(str(entry.get("path", "")).split("/"))
            if (entry.get("method") == "DELETE" and 200 <= int(entry.get("status") or 0) < 300
                    and values <= segments):
                return False
        return True

    return keep


def _parents_of(body: Any, pointer: str) -> list[tuple[dict[str, Any], str]]:
    """The objects holding the pointer's last field (several when the pointer has a `*`)."""
    parts = pointer.strip("/").split("/")
    nodes = [body]
    for part in parts[:-1]:
        if part == "*":
            nodes = [item for node in nodes if isinstance(node, list) for item in node]
        else:
            nodes = [node[part] for node in nodes if isinstance(node, dict) and part in node]
    return [(node, parts[-1]) for node in nodes if isinstance(node, dict)]


def bearer_enforced(schemes: set[str]) -> Callable[[Any, Any, Any], None]:
    """`ignored_auth` for OAuth 2 security schemes, which Schemathesis' own check cannot see.

    Schemathesis 4.32 derives no security parameter from an `oauth2` scheme
    (`get_security_parameters` answers `[]` for Plggr's `PlggrOAuth`), so its `ignored_auth` check
    passes without probing anything. This check does what `ignored_auth` does for the other
    schemes: once per operation, after a 2xx obtained with the configured token, it resends the
    request without `Authorization` and with an unknown bearer token, and both must be 401.
    """
    from requests.structures import CaseInsensitiveDict

    confirmed: set[str] = set()

    def oauth2_ignored_auth(ctx: Any, response: Any, case: Any) -> None:
        operation = case.operation
        security = operation.definition.raw.get("security", operation.schema.raw_schema.get("security", []))
        if not any(set(requirement) & schemes for requirement in security) or [] in security:
            return
        if not 200 <= response.status_code < 300 or operation.label in confirmed:
            return
        confirmed.add(operation.label)
        headers = CaseInsensitiveDict({k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"})
        for label, extra in (("without credentials", {}), ("with an unknown token", {"Authorization": "Bearer x"})):
            probe = case.derive(headers=CaseInsensitiveDict({**headers, **extra}))
            answer = probe.call()
            assert answer.status_code == 401, (
                f"{operation.label} answered {answer.status_code} {label} (expected 401) after answering "
                f"{response.status_code} with a valid token")

    return oauth2_ignored_auth


def stateful_test_case(conformance: Conformance) -> type:
    """The stateful phase as a unittest-style test: `TestX = stateful_test_case(X)`.

    `schema.as_state_machine().TestCase` runs with Schemathesis' built-in state-machine settings
    (Hypothesis' default 100 scenarios, random), not with the `[phases.stateful]` config, which only
    the CLI engine reads. The budget and determinism of the run are set here instead; the other
    built-in settings (generate phase only, no deadline, health checks off as Schemathesis has them
    for link-driven scenarios) are kept.
    """
    import hypothesis
    from schemathesis.generation.stateful.state_machine import DEFAULT_STATE_MACHINE_SETTINGS

    api = conformance.api

    class Scenario(conformance.schema.as_state_machine()):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            # Every scenario starts from the sandbox fixtures: scenarios stay independent, and
            # Hypothesis sees the same responses when it replays a choice sequence (a state left by
            # an earlier scenario would make its generation "flaky" - FlakyStrategyDefinition).
            api.reset()
            super().setup()

    Scenario.__name__ = Scenario.__qualname__ = f"{conformance.label}Scenario"
    test_case = Scenario.TestCase
    run = test_case.runTest

    def runTest(self: Any) -> None:
        try:
            run(self)
        except BaseException:
            conformance.failed = True
            raise

    runTest.is_hypothesis_test = True  # type: ignore[attr-defined] - as Schemathesis marks its own
    test_case.runTest = runTest
    test_case.settings = hypothesis.settings(
        DEFAULT_STATE_MACHINE_SETTINGS,
        max_examples=STATEFUL_EXAMPLES,
        stateful_step_count=STATEFUL_MAX_STEPS,
        derandomize=True,
        database=None,
    )
    return test_case


def load_or_report(build: Callable[[], Conformance]) -> tuple[Conformance | None, str | None]:
    """`(conformance, None)`, or `(None, why)` when the API cannot be loaded yet."""
    try:
        return build(), None
    except Exception:  # noqa: BLE001 - reported by the module's failing test
        return None, traceback.format_exc()


def fail_load(name: str, error: str) -> Callable[[], None]:
    def test_api_loads() -> None:
        pytest.fail(f"{name} could not be loaded for the conformance run:\n{error}", pytrace=False)

    test_api_loads.__name__ = f"test_{name}_loads"
    return test_api_loads
