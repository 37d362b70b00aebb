"""Responses chosen rather than computed: an injected fault's answer, or the one a `Prefer` header names.

A fault rule answers before validation (it stands for a failing network or server). A Prism-style
`Prefer: code=..., example=...` header only picks among the operation's declared responses once
the request has passed authentication, rate limits, validation and the tenant scope, so it can
never reveal what the caller may not see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mocks.actions import first_example
from mocks.faults import Fault, parse_prefer
from mocks.types import MockError, MockRequest, MockResponse

if TYPE_CHECKING:
    from mocks.engine import Api, CompiledOperation


def preferred(request: MockRequest) -> dict[str, Any] | None:
    """The response a `Prefer` header asks for ({status?, example?}), or None."""
    return parse_prefer(request.header("prefer"))


def chosen_response(api: Api, compiled: CompiledOperation, respond: dict[str, Any], request: MockRequest,
                    fault: Fault | None = None) -> MockResponse:
    """The declared response `respond` names: a success body (an example) or one of the API's errors."""
    status = respond.get("status")
    op = compiled.operation
    example = respond.get("example")
    if respond.get("code") is None and (example is not None or (status and 200 <= int(status) < 300)):
        status = int(status or op.success_status)
        value = _named_example(api, op, status, example)
        return compiled.renderer.render(status, value, request.header("accept"), [])
    try:
        code = api.errors.code_for(respond.get("code") or status)
    except KeyError:
        raise MockError("invalid_request", f"no declared response '{respond.get('code') or status}'",
                        field="Prefer" if fault is None else None) from None
    headers = []
    if fault is not None and fault.retry_after is not None:
        headers.append(("Retry-After", str(fault.retry_after)))
    elif api.errors.status_of(code) in (429, 503):
        headers.append(("Retry-After", "1"))
    template = compiled.error_template
    return api.errors.response(MockError(code, respond.get("message"), headers=headers),
                               accept=request.header("accept"), template=template)


def _named_example(api: Api, op, status: int, name: str | None) -> Any:
    response = op.response(status) or {}
    for media in (response.get("content") or {}).values():
        examples = media.get("examples") or {}
        if name is not None and name in examples:
            return api.contract.resolve(examples[name]).get("value")
    if name is not None:
        raise MockError("invalid_request", f"no example '{name}' for status {status} of {op.id}", field="Prefer")
    return first_example(api, op, status)
