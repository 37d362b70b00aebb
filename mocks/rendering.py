"""Responses in the operation's declared media types, projected onto its declared schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mocks.contract import Contract, Operation, inline_schema
from mocks.errors import ErrorCatalog
from mocks.examples import named_example
from mocks.faults import parse_prefer
from mocks.media import JSON, XML, dump_json, dump_xml, essence, negotiate
from mocks.types import MockError, MockRequest, MockResponse

Projector = Callable[[Any], Any]


def compile_projector(schema: dict[str, Any]) -> Projector:
    """Drop the properties a closed schema (`additionalProperties: false`) does not declare."""
    if not isinstance(schema, dict):
        return _same
    if "allOf" in schema:
        merged: dict[str, Any] = {"properties": {}}
        for part in schema["allOf"]:
            merged["properties"].update(part.get("properties", {}))
            if part.get("additionalProperties") is False:
                merged["additionalProperties"] = False
        merged["properties"].update(schema.get("properties", {}))
        if schema.get("additionalProperties") is False:
            merged["additionalProperties"] = False
        return compile_projector(merged)
    properties = schema.get("properties")
    if isinstance(properties, dict) and properties:
        inner = {name: compile_projector(sub) for name, sub in properties.items()}
        closed = schema.get("additionalProperties") is False or schema.get("unevaluatedProperties") is False
        nested = [(name, project) for name, project in inner.items() if project is not _same]
        if not closed and not nested:
            return _same
        declared = frozenset(inner)

        # the value itself when nothing is dropped (a stored record usually holds only declared
        # properties): a copy is made only of what changes
        def project_object(value: Any) -> Any:
            if not isinstance(value, dict):
                return value
            projected = value
            if closed and not value.keys() <= declared:
                projected = {k: v for k, v in value.items() if k in declared}
            for name, project in nested:
                if name in projected:
                    before = projected[name]
                    after = project(before)
                    if after is not before:
                        if projected is value:
                            projected = dict(value)
                        projected[name] = after
            return projected

        return project_object
    if "items" in schema and isinstance(schema["items"], dict):
        item = compile_projector(schema["items"])
        if item is _same:
            return _same

        def project_array(value: Any) -> Any:
            if not isinstance(value, list):
                return value
            projected = [item(v) for v in value]
            return value if all(after is before for after, before in zip(projected, value)) else projected

        return project_array
    return _same


def _same(value: Any) -> Any:
    return value


class ResponseRenderer:
    """Per operation: status -> (media types, projector), compiled once."""

    def __init__(self, contract: Contract, operation: Operation, xml_root: str) -> None:
        self.shapes: dict[int, tuple[list[str], dict[str, Projector], dict[str, str]]] = {}
        for status, response in operation.responses.items():
            if not status.isdigit():
                continue
            content = response.get("content") or {}
            media = [essence(m) for m in content]
            projectors, roots = {}, {}
            for media_type, entry in content.items():
                schema = inline_schema(contract, entry.get("schema") or {})
                projectors[essence(media_type)] = compile_projector(schema)
                roots[essence(media_type)] = (schema.get("xml") or {}).get("name") or xml_root
            self.shapes[int(status)] = (media, projectors, roots)

    def render(self, status: int, body: Any, accept: str | None, headers: list) -> MockResponse:
        media, projectors, roots = self.shapes.get(status, ([JSON], {}, {}))
        response = MockResponse(status, headers=list(headers))
        if body is None or status == 204 or not media:
            return response
        chosen = negotiate(accept, media)
        if chosen is None:
            raise MockError("not_acceptable", f"this operation answers {', '.join(media)}")
        value = projectors.get(chosen, _same)(body)
        response.media_type = chosen
        if chosen == XML or chosen.endswith("+xml"):
            response.body = dump_xml(value, roots.get(chosen, "response"))
        elif chosen.startswith("text/") and isinstance(value, str):
            response.body = value.encode()
        else:
            response.body = dump_json(value)
        return response


def preferred(request: MockRequest) -> dict[str, Any] | None:
    """The response a Prism-style `Prefer: code=..., example=...` header asks for, or None."""
    prefer = request.headers.get("prefer")
    return parse_prefer(prefer) if prefer else None


def chosen_response(errors: ErrorCatalog, renderer: ResponseRenderer, operation: Operation, contract: Contract,
                    respond: dict[str, Any], request: MockRequest, *, error_template: str | None = None,
                    retry_after: float | None = None, fault: bool = False) -> MockResponse:
    """A response chosen rather than computed: the declared success example or error that `respond` names.

    An injected fault's answer comes before validation (it stands for a failing network or server);
    a `Prefer` header only picks among declared responses once the request has passed
    authentication, limits, validation and the tenant scope, so it never reveals what the caller
    may not see.
    """
    status = respond.get("status")
    example = respond.get("example")
    if respond.get("code") is None and (example is not None or (status and 200 <= int(status) < 300)):
        status = int(status or operation.success_status)
        value = named_example(contract, operation, status, example)
        return renderer.render(status, value, request.header("accept"), [])
    try:
        code = errors.code_for(respond.get("code") or status)
    except KeyError:
        raise MockError("invalid_request", f"no declared response '{respond.get('code') or status}'",
                        field=None if fault else "Prefer") from None
    headers = []
    if retry_after is not None:
        headers.append(("Retry-After", str(retry_after)))
    elif errors.status_of(code) in (429, 503):
        headers.append(("Retry-After", "1"))
    return errors.response(MockError(code, respond.get("message"), headers=headers),
                           accept=request.header("accept"), template=error_template)
