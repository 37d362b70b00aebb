"""Every failure in the API's own format, from the contract's `x-mock-errors`."""

from __future__ import annotations

from typing import Any

from mocks.contract import Contract, ContractError
from mocks.media import JSON, XML, dump_json, dump_xml, negotiate
from mocks.templates import compile_template
from mocks.types import MockError, MockResponse

ENGINE_CODES = (
    "unauthorized", "forbidden", "not_found", "invalid_request", "method_not_allowed",
    "unsupported_media_type", "not_acceptable", "conflict", "rate_limited", "server_error", "unavailable",
)


class ErrorCatalog:
    def __init__(self, contract: Contract) -> None:
        declared = contract.extension("errors") or {}
        self.media_types: list[str] = list(declared.get("media-types", [JSON]))
        self.xml_root: str = declared.get("xml-root", "error")
        self.codes: dict[str, dict[str, Any]] = {str(k): v for k, v in (declared.get("codes") or {}).items()}
        missing = [code for code in ENGINE_CODES if code not in self.codes]
        if missing:
            raise ContractError(f"{contract.source}: x-mock-errors.codes lacks {', '.join(missing)}")
        self.templates = {name: compile_template(t) for name, t in (declared.get("templates") or {}).items()}
        self._by_status: dict[int, str] = {}
        for name, entry in self.codes.items():
            self._by_status.setdefault(int(entry["status"]), name)
        # a body over the cap: the API's 413 where it declares one, else its 400
        self.too_large: str = self._by_status.get(413, "invalid_request")

    def code_for(self, name_or_status: str | int) -> str:
        """A code name from a name or a bare status ("503" -> the first code with that status)."""
        key = str(name_or_status)
        if key in self.codes:
            return key
        if key.isdigit() and int(key) in self._by_status:
            return self._by_status[int(key)]
        raise KeyError(key)

    def status_of(self, code: str) -> int:
        return int(self.codes[code]["status"])

    def body(self, code: str, *, message: str | None = None, field: str | None = None,
             template: str | None = None) -> Any:
        entry = self.codes[code]
        context = {**entry, "message": message or entry.get("message"), "field": field, "name": code}
        chosen = template or entry.get("template") or "default"
        render = self.templates.get(chosen) or self.templates.get("default")
        return render(context) if render else None

    def respond(self, error: MockError, *, accept: str | None = None, template: str | None = None) -> MockResponse:
        """`error` in the API's own format; an error code the contract does not declare is a mock defect (500)."""
        try:
            return self.response(error, accept=accept, template=template)
        except KeyError:
            return self.response(MockError("server_error", f"undeclared error code '{error.code}'"))

    def response(self, error: MockError, *, accept: str | None = None, template: str | None = None) -> MockResponse:
        code = error.code if error.code in self.codes else self.code_for(error.code)
        response = MockResponse(self.status_of(code), headers=list(error.headers))
        if not self.media_types:
            return response  # this API's errors carry a status only, no body
        body = self.body(code, message=error.message, field=error.field, template=template)
        media_type = negotiate(accept, self.media_types) or self.media_types[0]
        response.media_type = media_type
        response.body = dump_xml(body, self.xml_root) if media_type == XML else dump_json(body)
        return response
