"""Fault: injected failures that replace, delay or cut a response, chosen per request.

Rules come from the admin API, scenarios and the verifier; a Prism-style `Prefer` header picks
a declared response for one request.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mocks.types import MockRequest, Principal

if TYPE_CHECKING:
    from mocks.errors import ErrorCatalog

RESPONSE_KEYS = ("status", "code", "example", "message")
MAX_LATENCY = 3600.0  # seconds: an hour outlasts any client timeout worth testing
MAX_COUNT = 1_000_000_000


class FaultError(ValueError):
    """A fault rule that cannot be installed as written."""


@dataclass(slots=True)
class Fault:
    id: int
    operation: str | None = None
    method: str | None = None
    path: str | None = None  # a glob over the request path
    principal: str | None = None
    respond: dict[str, Any] | None = None  # {status | code, example?, message?}
    latency: float = 0.0  # seconds before acting
    drop: str | None = None  # "before" (nothing happens) or "after" (committed, response lost)
    times: int | None = None  # fire this many times, then retire; None = always
    after: int = 0  # let this many matching requests through first
    probability: float = 1.0
    seed: int | None = None
    retry_after: int | None = None  # Retry-After on an injected 429/503
    expire_credentials: bool = False  # revoke the issued token the request presented, then answer 401
    seen: int = 0
    fired: int = 0

    def matches(self, operation_id: str, request: MockRequest, principal: Principal | None) -> bool:
        return ((self.operation is None or self.operation == operation_id)
                and (self.method is None or self.method.upper() == request.method)
                and (self.path is None or fnmatch.fnmatchcase(request.path, self.path))
                and (self.principal is None or (principal is not None and principal.id == self.principal)))

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def describe(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("id", "operation", "method", "path", "principal", "respond",
                                              "latency", "drop", "times", "after", "probability", "seed",
                                              "retry_after", "expire_credentials", "seen", "fired")}
        return {k: v for k, v in out.items() if v is not None}


_FIELDS = {"operation", "method", "path", "principal", "respond", "latency", "drop", "times", "after",
           "probability", "seed", "retry_after", "expire_credentials"}


def check_fault(spec: dict[str, Any], operations: Collection[str], errors: ErrorCatalog, api: str) -> Fault:
    """The fault `spec` describes, if it names what `api`'s contract declares (the one check: the admin
    API, scenarios, snapshots and the verifier all come through here); else FaultError."""
    fault = parse_fault(spec)
    if fault.operation is not None and fault.operation not in operations:
        raise FaultError(f"no operation '{fault.operation}' in {api}; known: {', '.join(operations)}")
    respond = fault.respond or {}
    code, status = respond.get("code"), respond.get("status")
    if code is not None and code not in errors.codes:
        raise FaultError(f"no error code '{code}' in {api}; declared: {', '.join(errors.codes)}")
    if code is None and status is not None and not 200 <= int(status) < 300:
        try:
            errors.code_for(status)
        except KeyError:
            declared = sorted({str(e["status"]) for e in errors.codes.values()})
            raise FaultError(f"{api} declares no response with status {status}; "
                             f"declared error statuses: {', '.join(declared)}") from None
    return fault


def parse_fault(spec: dict[str, Any], fault_id: int = 0) -> Fault:
    if not isinstance(spec, dict):
        raise FaultError("a fault is an object")
    unknown = set(spec) - _FIELDS
    if unknown:
        raise FaultError(f"unknown fault field(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(_FIELDS))}")
    respond = spec.get("respond")
    if isinstance(respond, (int, str)):
        respond = {"status": int(respond)} if str(respond).isdigit() else {"code": str(respond)}
    if respond is not None and (not isinstance(respond, dict) or not set(respond) <= set(RESPONSE_KEYS)):
        raise FaultError(f"respond takes a status, a code name, or an object with {', '.join(RESPONSE_KEYS)}")
    drop = spec.get("drop")
    if drop not in (None, "before", "after"):
        raise FaultError("drop is 'before' (nothing happens) or 'after' (committed, response lost)")
    if spec.get("expire_credentials"):
        respond = respond or {"code": "unauthorized"}
    if respond is None and drop is None and not spec.get("latency"):
        raise FaultError("a fault needs at least one of respond, latency, drop or expire_credentials")
    for name in ("operation", "method", "path", "principal"):
        if spec.get(name) is not None and not isinstance(spec[name], str):
            raise FaultError(f"fault '{name}' is a string")
    _check_respond(respond)
    fault = Fault(
        id=fault_id, operation=spec.get("operation"), method=spec.get("method"), path=spec.get("path"),
        principal=spec.get("principal"), respond=respond,
        latency=_number(spec, "latency", 0.0, MAX_LATENCY), drop=drop,
        times=None if spec.get("times") is None else int(_number(spec, "times", 0, MAX_COUNT, whole=True)),
        after=int(_number(spec, "after", 0, MAX_COUNT, whole=True)),
        probability=_number(spec, "probability", 1.0, 1.0), seed=spec.get("seed"),
        retry_after=None if spec.get("retry_after") is None else int(
            _number(spec, "retry_after", 0, MAX_LATENCY, whole=True)),
        expire_credentials=bool(spec.get("expire_credentials", False)),
    )
    if fault.seed is not None and (isinstance(fault.seed, bool) or not isinstance(fault.seed, int | str)):
        raise FaultError("fault 'seed' is a whole number or a string")
    return fault


def _number(spec: dict[str, Any], name: str, default: float, most: float, *, whole: bool = False) -> float:
    """A finite number in 0..most (JSON allows 1e999, NaN and Infinity; none of them can be waited for)."""
    value = spec.get(name, default)
    kind = "a whole number" if whole else "a number"
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError(f"{name} is {kind}, not {value!r}")
        number = float(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise FaultError(f"bad fault value: {exc}") from None
    if not (math.isfinite(number) and 0 <= number <= most) or (whole and number != int(number)):
        if name == "probability":
            raise FaultError(f"probability is between 0 and 1, not {value!r}")
        raise FaultError(f"fault '{name}' is {kind} between 0 and {most:g}, not {value!r}")
    return number


def _check_respond(respond: dict[str, Any] | None) -> None:
    if respond is None:
        return
    status = respond.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
        raise FaultError(f"respond 'status' is a whole number (a declared status or vendor code), not {status!r}")
    for name in ("code", "example", "message"):
        if respond.get(name) is not None and not isinstance(respond[name], str):
            raise FaultError(f"respond '{name}' is a string")


def parse_prefer(header: str | None) -> dict[str, Any] | None:
    """`Prefer: code=503, example=declined` -> {"status": 503, "example": "declined"} (Prism's header)."""
    if not header:
        return None
    chosen: dict[str, Any] = {}
    for part in header.replace(";", ",").split(","):
        name, _, value = part.strip().partition("=")
        value = value.strip().strip('"')
        if name == "code" and value.isdigit():
            chosen["status"] = int(value)
        elif name == "example" and value:
            chosen["example"] = value
    return chosen or None
