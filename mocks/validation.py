"""Compiled request validators: parameters and bodies against the contract's JSON Schemas.

Problems are collected as diagnostics (data, not exceptions) so the caller chooses how to
report them: the pipeline turns the first into the API's own 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from mocks.contract import Contract, Operation, inline_schema
from mocks.media import essence, is_media_type, parse_body
from mocks.types import MockError, MockRequest

# Per the OpenAPI specification these header parameters are described elsewhere and ignored.
_IGNORED_HEADERS = {"accept", "content-type", "authorization"}
_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_DEFAULT_STYLE = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}


@dataclass(slots=True, frozen=True)
class Diagnostic:
    field: str
    message: str


def compile_schema(contract: Contract, schema: dict[str, Any]):
    return jsonschema_rs.Draft202012Validator(contract.rooted(schema), validate_formats=True)


@dataclass(slots=True)
class _Parameter:
    name: str
    location: str
    required: bool
    kind: str | None
    item_kind: str | None
    explode: bool
    validator: Any

    def read(self, request: MockRequest, path_params: dict[str, str]) -> list[str] | None:
        if self.location == "path":
            value = path_params.get(self.name)
            return None if value is None else [value]
        if self.location == "query":
            return request.query.get(self.name)
        if self.location == "header":
            value = request.headers.get(self.name.lower())
            return None if value is None else [value]
        if self.location == "cookie":
            return _cookies(request.header("cookie")).get(self.name)
        return None


class RequestValidator:
    """Everything one operation checks on the way in, compiled at start-up."""

    def __init__(self, contract: Contract, operation: Operation) -> None:
        self.parameters = [
            _compile_parameter(contract, p)
            for p in operation.parameters
            if not (p["in"] == "header" and p["name"].lower() in _IGNORED_HEADERS)
        ]
        self.body_required = bool(operation.request_body and operation.request_body.get("required"))
        bodies = contract.extension("request-bodies") or {}
        self.refuse_missing_content_type = bodies.get("missing-content-type", "first-declared") == "refuse"
        self.media: dict[str, tuple[dict[str, Any], Any]] = {}
        for media_type, media in ((operation.request_body or {}).get("content") or {}).items():
            schema = media.get("schema", {})
            self.media[essence(media_type)] = (inline_schema(contract, schema), compile_schema(contract, schema))

    def parameters_of(self, request: MockRequest, path_params: dict[str, str]) -> tuple[dict, list[Diagnostic]]:
        values: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}, "cookie": {}}
        problems: list[Diagnostic] = []
        for param in self.parameters:
            raw = param.read(request, path_params)
            if raw is None:
                if param.required:
                    problems.append(Diagnostic(param.name, f"missing required {param.location} parameter '{param.name}'"))
                continue
            try:
                value = _coerce(param, raw)
            except ValueError as exc:
                problems.append(Diagnostic(param.name, f"{param.location} parameter '{param.name}': {exc}"))
                continue
            if not param.validator.is_valid(value):  # the one call a valid value costs
                error = _first_error(param.validator, value)
                problems.append(Diagnostic(param.name, f"{param.location} parameter '{param.name}': {error}"))
                continue
            values[param.location][param.name] = value
        return values, problems

    def body_of(self, request: MockRequest) -> tuple[Any, str | None, list[Diagnostic]]:
        """Parse and check the body: (value, media type, problems). Raises for 415."""
        if not self.media:
            return None, None, []
        if not request.body:
            if self.body_required:
                return None, None, [Diagnostic("body", "a request body is required")]
            return None, None, []
        media_type = self._media_type_of(request.header("content-type"))
        if media_type not in self.media:
            raise MockError("unsupported_media_type",
                            f"content type '{media_type}' is not one of {', '.join(self.media)}")
        schema, validator = self.media[media_type]
        value = parse_body(request.body, media_type, schema)
        problems = [Diagnostic(_field(e), _message(e)) for e in _errors(validator, value)]
        return value, media_type, problems

    def _media_type_of(self, content_type: str | None) -> str:
        """The declared media type a body is read as; the contract's x-mock-request-bodies decides a missing one."""
        declared = ", ".join(self.media)
        if content_type is None or not content_type.strip():
            if self.refuse_missing_content_type:
                raise MockError("unsupported_media_type", f"a request body needs a Content-Type, one of {declared}",
                                field="Content-Type")
            return next(iter(self.media))
        if not is_media_type(content_type):
            raise MockError("unsupported_media_type",
                            f"Content-Type '{content_type[:100]}' is not a media type; send one of {declared}",
                            field="Content-Type")
        return essence(content_type)


def _compile_parameter(contract: Contract, param: dict[str, Any]) -> _Parameter:
    schema = param.get("schema") or {}
    inlined = inline_schema(contract, schema)
    kind = _kind(inlined)
    item_kind = _kind(inlined.get("items", {})) if kind == "array" else None
    return _Parameter(
        name=param["name"],
        location=param["in"],
        required=bool(param.get("required") or param["in"] == "path"),
        kind=kind,
        item_kind=item_kind,
        explode=param.get("explode", param.get("style", _DEFAULT_STYLE[param["in"]]) == "form"),
        validator=compile_schema(contract, schema),
    )


def _coerce(param: _Parameter, raw: list[str]) -> Any:
    if param.kind == "array":
        parts = raw if param.explode else [p for value in raw for p in value.split(",")]
        return [_scalar(param.item_kind, part) for part in parts]
    if len(raw) > 1:
        raise ValueError("given more than once")
    return _scalar(param.kind, raw[0])


def _scalar(kind: str | None, text: str) -> Any:
    if kind == "integer":
        if not _INTEGER.fullmatch(text):
            raise ValueError(f"'{text}' is not an integer")
        return int(text)
    if kind == "number":
        if not _NUMBER.fullmatch(text):
            raise ValueError(f"'{text}' is not a number")
        return float(text)
    if kind == "boolean":
        if text in ("true", "false"):
            return text == "true"
        raise ValueError(f"'{text}' is not true or false")
    return text


def _kind(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind


def _errors(validator, value) -> list:
    return list(validator.iter_errors(value)) if not validator.is_valid(value) else []


def _first_error(validator, value) -> str | None:
    errors = _errors(validator, value)
    return _message(errors[0]) if errors else None


def _field(error) -> str:
    path = [str(p) for p in error.instance_path]
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        path.append(str(kind.property))
    elif isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties) and kind.unexpected:
        path.append(str(kind.unexpected[0]))
    return ".".join(path) or "body"


def _message(error) -> str:
    where = ".".join(str(p) for p in error.instance_path)
    return f"{where}: {error.message}" if where else error.message


def _cookies(header: str | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in (header or "").split(";"):
        if "=" in part:
            name, value = part.strip().split("=", 1)
            out.setdefault(name, []).append(value)
    return out
