"""Request and response bodies in the media types the contracts declare: JSON, XML, forms."""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import parse_qsl
from xml.etree.ElementTree import Element, SubElement, TreeBuilder, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from mocks.jsonwrite import (
    dump_json,  # noqa: F401 - re-exported: media.dump_json is the one encoder
    orjson,  # None where it is missing: jsonwrite imports it for both directions
)
from mocks.types import MockError

MAX_BODY_BYTES = 1 << 20
MAX_ADMIN_BODY_BYTES = 64 << 20  # a snapshot of a large sandbox is one admin body
MAX_DEPTH = 64  # nesting of JSON arrays/objects and XML elements; contract bodies need a handful
MAX_XML_ELEMENTS = 50_000
JSON = "application/json"
XML = "application/xml"
FORM = "application/x-www-form-urlencoded"


def too_large(size: int, cap: int = MAX_BODY_BYTES) -> str:
    return f"the request body ({size} bytes or more) is larger than the {cap}-byte cap"


_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}")


def essence(content_type: str | None) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_media_type(content_type: str) -> bool:
    """Whether a Content-Type header names a media type at all (`;;;=/` does not)."""
    return _MEDIA_TYPE.fullmatch(essence(content_type)) is not None


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
        return load_json(raw)
    except ValueError as exc:
        raise MockError("invalid_request", f"request body is not acceptable JSON: {exc}") from None


# JSON ------------------------------------------------------------------------------------------
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# orjson reads an integer beyond 64 bits as a float (12345678901234567890123 would lose digits), and
# -9223372036854775809 already has 19: a body with a run of 19 digits is read by the standard library,
# exactly. Found by turning every digit into 0 and looking for nineteen of them (10x a regex's speed)
_EVERY_DIGIT_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_DIGITS = b"0" * 19
_UNREAD = object()


def load_json(raw: bytes, *, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """The one JSON reader for request bodies and admin calls: bounded in size and depth, linear in time.

    Raises ValueError saying what is wrong. Every string it returns encodes as UTF-8 (a lone
    surrogate escape such as "\\ud800" is refused), and every number is finite, so whatever is
    accepted can be stored, listed and journaled. orjson parses a typical body in a sixth of the standard
    library's time and reads it to the same value; what it refuses, and long digit runs, the standard
    library reads.
    """
    if len(raw) > max_bytes:
        raise ValueError(f"larger than {max_bytes} bytes")
    value = _UNREAD
    if orjson is not None and _NINETEEN_DIGITS not in raw.translate(_EVERY_DIGIT_TO_ZERO):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # refused: the standard library's reading below says why, in the words clients already see
    by_orjson = value is not _UNREAD  # then no lone surrogate: orjson refuses one itself
    if not by_orjson:
        value = _standard_reading(raw, max_depth)
    # orjson's depth cap is 1024 and the C scanner's the recursion limit: the walk holds both to max_depth,
    # and finds a lone surrogate the standard library let through as an escape
    if raw.count(b"[") + raw.count(b"{") > max_depth or (not by_orjson and _SURROGATE_ESCAPE.search(raw)):
        _check_parsed(value, max_depth)
    return value


def _standard_reading(raw: bytes, max_depth: int) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        if text.startswith("\ufeff"):  # as json.loads refuses it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        return _DECODER.decode(text)
    except RecursionError:  # the C scanner stops at the interpreter's recursion limit, in linear time
        raise ValueError(f"nested deeper than {max_depth} levels") from None


def _check_parsed(value: Any, max_depth: int) -> None:
    """One iterative walk (no recursion to exhaust): depth within bounds, every string encodable."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth >= max_depth:
                raise ValueError(f"nested deeper than {max_depth} levels")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"a string holds a lone surrogate ({item[:40]!r}), which no text encoding "
                                 "can represent") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text[:40]} is out of range for a number")
    return number


# made once: json.loads given hooks builds a new decoder on every call (~1 us of every JSON request)
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


# XML -------------------------------------------------------------------------------------------
class _BoundedTree(TreeBuilder):
    """Builds the element tree, refusing it as soon as it is too deep or too large."""

    def __init__(self, max_depth: int, max_elements: int) -> None:
        super().__init__()
        self._depth = self._count = 0
        self._max_depth, self._max_elements = max_depth, max_elements

    def start(self, tag: Any, attrs: Any) -> Element:
        self._depth += 1
        self._count += 1
        if self._depth > self._max_depth:
            raise ValueError(f"nested deeper than {self._max_depth} levels")
        if self._count > self._max_elements:
            raise ValueError(f"more than {self._max_elements} elements")
        return super().start(tag, attrs)

    def end(self, tag: Any) -> Element:
        self._depth -= 1
        return super().end(tag)


def parse_xml(raw: bytes, schema: dict[str, Any]) -> Any:
    parser = DefusedXMLParser(target=_BoundedTree(MAX_DEPTH, MAX_XML_ELEMENTS), forbid_dtd=True,
                              forbid_entities=True, forbid_external=True)
    try:
        parser.feed(raw)
        root = parser.close()
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise MockError("invalid_request", f"request body is not acceptable XML: {exc}") from None
    return _from_element(root, schema)


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
        repeated: set[str] = set()
        for child in children:
            sub = properties.get(child.tag, {})
            value = _from_element(child, sub)
            if child.tag in out and _type_of(sub) != "array":
                previous = out[child.tag]
                if isinstance(previous, list) and child.tag in repeated:
                    previous.append(value)  # appending in place keeps many repeats linear
                else:
                    out[child.tag] = [previous, value]
                    repeated.add(child.tag)
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
