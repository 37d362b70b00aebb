"""The tenant scope, one owner: where a request names its tenant (`x-mock-tenancy`), and the check
that the caller may act there."""

from __future__ import annotations

from typing import Any

from mocks.contract import Contract
from mocks.types import MockError, MockRequest, Principal


class TenantScope:
    def __init__(self, contract: Contract) -> None:
        tenancy = contract.extension("tenancy") or {}
        self.source: dict[str, str] = tenancy.get("scope") or {"in": "principal"}
        self.mismatch: str = tenancy.get("mismatch", "forbidden")

    def requested(self, path: dict[str, Any], request: MockRequest) -> Any:
        """The scope the request names in its path, a header or the query (None: it names none)."""
        where, name = self.source.get("in"), self.source.get("name")
        if where == "path":
            return path.get(name)
        if where == "header":
            return request.header(name)
        if where == "query":
            return (request.query.get(name) or [None])[0]
        return None

    def early(self, path: dict[str, str], request: MockRequest, principal: Principal | None) -> Any:
        """The scope as sent, before validation (rate-limit keys and `require` read it): unchecked."""
        if self.source.get("in") in ("path", "header", "query"):
            return self.requested(path, request)
        return principal.default_scope if principal else None

    def resolve(self, requested: Any, principal: Principal | None) -> str | None:
        """The scope the request acts in: the one it names, if the principal holds it, else its default."""
        if requested is None:
            return principal.default_scope if principal else None
        scope = str(requested)
        if principal is not None and scope not in principal.scopes:
            raise MockError(self.mismatch, f"no access to '{scope}'", field=self.source.get("name"))
        return scope
