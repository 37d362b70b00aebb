"""Request and response bodies in the media types the contracts declare: JSON, XML, forms."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from mocks.jsonwrite import dump_json  # noqa: F401 - re-exported: media.dump_json is the one encoder
from mocks.types import MockError

MAX_BODY_BYTES = 1 << 20
JSON = "application/json"
XML = "application/xml"
FORM = "application/x-www-form-urlencoded"


def essence(content_type: str | None) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def negotiate(accept: str | None, offered: list[str]) -> str | None:
    """The offered media type the Accept header prefers (RFC 9110: the most specific range decides)."""
    if not offered:
        return None
    if not accept:
        return offered[0]
    ranges: list[tuple[str, float, int]] = []
    for position, part in enumerate(accept.split(",")):
        media, *params = [piece.strip() for piece in part.split(";")]
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if media:
            ranges.append((media.lower(), quality, position))
    best: tuple[float, int, int] | None = None
    chosen = None
    for order, candidate in enumerate(offered):
        quality, position = _quality(candidate, ranges)
        if quality <= 0:
            continue
        rank = (-quality, position, order)
        if best is None or rank < best:
            best, chosen = rank, candidate
    return chosen


def _quality(candidate: str, ranges: list[tuple[str, float, int]]) -> tuple[float, int]:
    specificity, quality, position = -1, 0.0, 0
    for media, q, where in ranges:
        if media == candidate:
            level = 2
        elif media.endswith("/*") and candidate.startswith(media[:-1]):
            level = 1
        elif media == "*/*":
            level = 0
        else:
            continue
        if level > specificity:
            specificity, quality, position = level, q, where
    return quality, position


def parse_body(raw: bytes, media_type: str, schema: dict[str, Any] | None) -> Any:
    if len(raw) > MAX_BODY_BYTES:
        raise MockError("invalid_request", f"request body larger than {MAX_BODY_BYTES} bytes")
    if media_type == XML or media_type.endswith("+xml"):
        return parse_xml(raw, schema or {})
    if media_type == FORM:
        return coerce_form(dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)), schema or {})
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MockError("invalid_request", f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise MockError("invalid_request", "request body is nested too deeply") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_xml(raw: bytes, schema: dict[str, Any]) -> Any:
    try:
        root = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise MockError("invalid_request", f"request body is not acceptable XML: {exc}") from None
    except RecursionError:
        raise MockError("invalid_request", "request body is nested too deeply") from None
    try:
        return _from_element(root, schema)
    except RecursionError:
        raise MockError("invalid_request", "request body is nested too deeply") from None


def _from_element(element: Element, schema: dict[str, Any]) -> Any:
    if element.get("nil") == "true" and not len(element):
        return None
    kind = _type_of(schema)
    children = list(element)
    if kind == "array" or (kind is None and children and len({c.tag for c in children}) == 1 and len(children) > 1):
        return [_from_element(child, schema.get("items", {})) for child in children]
    if kind == "object" or (kind is None and children):
        properties = schema.get("properties", {})
        out: dict[str, Any] = {}
        for child in children:
            sub = properties.get(child.tag, {})
            value = _from_element(child, sub)
            if child.tag in out and _type_of(sub) != "array":
                previous = out[child.tag]
                out[child.tag] = (previous if isinstance(previous, list) else [previous]) + [value]
            else:
                out[child.tag] = value
        return out
    return _scalar(element.text or "", schema)


def _scalar(text: str, schema: dict[str, Any]) -> Any:
    kind = _type_of(schema)
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        return text  # the schema validator reports the wrong type with the field's name
    if kind == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def coerce_form(values: dict[str, str], schema: dict[str, Any]) -> dict[str, Any]:
    properties = schema.get("properties", {})
    return {key: _scalar(value, properties.get(key, {})) for key, value in values.items()}


def dump_xml(value: Any, root_name: str) -> bytes:
    root = Element(root_name)
    _fill(root, value)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + tostring(root, encoding="utf-8")


def _fill(element: Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, list):
                holder = SubElement(element, key)
                for entry in item:
                    _fill(SubElement(holder, _singular(key)), entry)
            else:
                _fill(SubElement(element, key), item)
    elif value is None:
        element.set("nil", "true")
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = str(value)


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") and len(name) > 1 else "item"


def _type_of(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind
