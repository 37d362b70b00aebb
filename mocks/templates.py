"""Templates in the contract: JSON values whose strings are filled from a request context.

A string that is one placeholder (``"{body.id}"``) becomes the raw value; placeholders inside
text are formatted. Templates are compiled once, at start-up, into closures.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Render = Callable[[Mapping[str, Any]], Any]
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.\-]*)\}")
_MISSING = object()


def lookup(context: Mapping[str, Any], dotted: str) -> Any:
    return _follow(context, dotted.split("."))


def _follow(context: Mapping[str, Any], parts: list[str]) -> Any:
    value: Any = context
    for part in parts:
        if type(value) is dict or isinstance(value, Mapping):  # the exact type first: the ABC check is slow
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            value = getattr(value, part, _MISSING)
        if value is _MISSING:
            return None
    return value


def compile_template(template: Any) -> Render:
    if isinstance(template, str):
        return _compile_string(template)
    if isinstance(template, Mapping):
        parts = [(key, compile_template(value)) for key, value in template.items()]
        return lambda ctx: {key: render(ctx) for key, render in parts}
    if isinstance(template, list):
        items = [compile_template(value) for value in template]
        return lambda ctx: [render(ctx) for render in items]
    return lambda ctx: template


def render(template: Any, context: Mapping[str, Any]) -> Any:
    return compile_template(template)(context)


def _compile_string(text: str) -> Render:
    whole = _PLACEHOLDER.fullmatch(text)
    if whole:
        parts = whole.group(1).split(".")  # split once, at compile time
        if len(parts) == 1:  # `{scope}`: one look-up in the context, which is a dict (most often)
            name = parts[0]
            return lambda ctx: ctx.get(name) if type(ctx) is dict else _follow(ctx, parts)
        return lambda ctx: _follow(ctx, parts)
    if "{" not in text and "}" not in text:
        return lambda ctx: text
    pieces = _tokens(text)

    def fill(ctx: Mapping[str, Any]) -> str:
        out = []
        for piece in pieces:
            if isinstance(piece, str):
                out.append(piece)
            else:
                value = _follow(ctx, piece[0])
                out.append("" if value is None else _text(value))
        return "".join(out)

    return fill


def _tokens(text: str) -> list[str | tuple[list[str]]]:
    """Literal text and (placeholder's parts,) pieces, read left to right: `{{` and `}}` are braces."""
    pieces: list[str | tuple[list[str]]] = []
    literal: list[str] = []
    position = 0
    while position < len(text):
        pair = text[position:position + 2]
        if pair in ("{{", "}}"):
            literal.append(pair[0])
            position += 2
            continue
        match = _PLACEHOLDER.match(text, position) if text[position] == "{" else None
        if match:
            pieces.append("".join(literal))
            literal = []
            pieces.append((match.group(1).split("."),))
            position = match.end()
            continue
        literal.append(text[position])
        position += 1
    pieces.append("".join(literal))
    return [p for p in pieces if p != ""]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
