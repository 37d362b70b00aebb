"""Authenticate: the operation's security requirements resolve the caller to a principal."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from mocks.contract import Contract
from mocks.fixtures import Fixtures
from mocks.types import MockError, MockRequest, Principal

ISSUED = "issued-credentials"


@dataclass(slots=True, frozen=True)
class _Scheme:
    name: str
    kind: str  # header | query | cookie | basic | bearer
    location: str  # header or parameter name
    carries_scope: bool

    def read(self, request: MockRequest) -> str | None:
        if self.kind == "header":
            return request.headers.get(self.location)
        if self.kind == "query":
            values = request.query.get(self.location)
            return values[0] if values else None
        if self.kind == "cookie":
            for part in (request.header("cookie") or "").split(";"):
                name, _, value = part.strip().partition("=")
                if name == self.location:
                    return value
            return None
        authorization = request.headers.get("authorization") or ""
        if self.kind == "basic":
            return _basic_credentials(authorization)
        prefix, _, value = authorization.partition(" ")
        return (value.strip() or None) if prefix.lower() == "bearer" else None


_BASIC_SEEN: dict[str, str | None] = {}  # Authorization value -> what it carries: clients repeat theirs
# Values come from clients, so both their number and their length are bounded: forgotten all at once
# when full; one longer than any real key:secret (a header may be 64 KiB) is decoded, not remembered.
_BASIC_SEEN_MAX = 256
_BASIC_SEEN_LONGEST = 1024


def _basic_credentials(authorization: str) -> str | None:
    """`key:secret` of an HTTP Basic Authorization value; None when it is not one."""
    try:
        return _BASIC_SEEN[authorization]
    except KeyError:
        pass
    prefix, _, value = authorization.partition(" ")
    decoded = None
    if prefix.lower() == "basic" and value:
        try:
            # ValueError also covers non-ASCII text, which b64decode refuses before decoding
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except ValueError:
            pass
    if len(authorization) <= _BASIC_SEEN_LONGEST:
        if len(_BASIC_SEEN) >= _BASIC_SEEN_MAX:
            _BASIC_SEEN.clear()
        _BASIC_SEEN[authorization] = decoded
    return decoded


def credential_key(values: dict[str, Any]) -> str:
    if len(values) == 1:  # the common case, one scheme: no sort, no generator
        for name, value in values.items():
            return f"{name}\x1e{value}"
    return "\x1f".join(f"{k}\x1e{v}" for k, v in sorted(values.items()))


class Authenticator:
    def __init__(self, contract: Contract, fixtures: Fixtures, store) -> None:
        self.store = store
        self.schemes = {name: _compile(name, spec) for name, spec in contract.security_schemes.items()}
        self.principals = fixtures.principals
        self._static: dict[str, Principal] = {}
        for credential in fixtures.credentials:
            identity = {k: v for k, v in credential.schemes.items()
                        if k in self.schemes and not self.schemes[k].carries_scope}
            if identity:
                self._static[credential_key(identity)] = credential.principal

    def authenticate(self, security: list[dict[str, list[str]]], request: MockRequest,
                     now: float) -> tuple[Principal | None, dict[str, str]]:
        """The caller's principal and the credential values that identified it (None, {} when not secured)."""
        if not security or any(not requirement for requirement in security):
            return None, {}
        offered = False
        for requirement in security:
            values = {}
            for name in requirement:
                scheme = self.schemes.get(name)
                if scheme is None:
                    continue
                value = scheme.read(request)
                if value is None:
                    break  # every scheme of a requirement must be present, the scope-carrying ones too
                if not scheme.carries_scope:
                    values[name] = value
            else:
                if not values:
                    continue
                offered = True
                principal = self.lookup(values, now)
                if principal is not None:
                    return principal, values
        raise MockError("unauthorized", None if offered else "missing credentials")

    def lookup(self, values: dict[str, Any], now: float) -> Principal | None:
        key = credential_key(values)
        principal = self._static.get(key)
        if principal is not None:
            return principal
        issued = self.store.read(ISSUED, key, now)
        return self.principals.get(issued) if issued is not None else None

    def issue(self, values: dict[str, Any], principal: Principal, expires_at: float | None, now: float) -> None:
        self.store.write(ISSUED, credential_key(values), principal.id, expires_at, now)

    def revoke(self, values: dict[str, Any]) -> None:
        self.store.remove(ISSUED, credential_key(values))

    def scope_names(self) -> list[tuple[str, str]]:
        """(in, name) of schemes that carry the tenant scope."""
        return [("header", s.location) for s in self.schemes.values() if s.carries_scope]


def _compile(name: str, spec: dict[str, Any]) -> _Scheme:
    kind = spec.get("type")
    scope = bool(spec.get("x-mock-scope"))
    if kind == "apiKey":
        where = spec.get("in", "header")
        location = spec["name"].lower() if where == "header" else spec["name"]
        return _Scheme(name, where, location, scope)
    if kind == "http" and str(spec.get("scheme", "")).lower() == "basic":
        return _Scheme(name, "basic", "authorization", scope)
    # http bearer, oauth2 and openIdConnect all present a bearer token
    return _Scheme(name, "bearer", "authorization", scope)
