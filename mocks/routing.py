"""Match a method and path to an operation: literal segments beat templated ones.

A path that exists with another method is a partial match, answered 405 with `Allow`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import unquote

T = TypeVar("T")


@dataclass(slots=True)
class _Node(Generic[T]):
    literals: dict[str, _Node[T]] = field(default_factory=dict)
    param: _Node[T] | None = None
    param_name: str = ""
    methods: dict[str, T] = field(default_factory=dict)


@dataclass(slots=True)
class Match(Generic[T]):
    target: T | None  # None: the path exists, the method does not
    params: dict[str, str]
    allowed: tuple[str, ...] = ()  # the path's methods, listed only for a missing method (the 405's Allow)


class Router(Generic[T]):
    def __init__(self) -> None:
        self._root: _Node[T] = _Node()

    def add(self, method: str, template: str, target: T) -> None:
        node = self._root
        for segment in _segments(template):
            if segment.startswith("{") and segment.endswith("}"):
                name = segment[1:-1]
                if node.param is None:
                    node.param, node.param_name = _Node(), name
                elif node.param_name != name:
                    raise ValueError(f"{template}: '{{{name}}}' clashes with '{{{node.param_name}}}'")
                node = node.param
            else:
                node = node.literals.setdefault(segment, _Node())
        if method in node.methods:
            raise ValueError(f"duplicate route {method} {template}")
        node.methods[method] = target

    def match(self, method: str, path: str) -> Match[T] | None:
        segments = _segments(path)
        params: dict[str, str] = {}
        node = _straight(self._root, segments, params)
        if node is None:  # a dead end on the way `_walk` tries first: search again, backtracking
            params = {}
            node = _walk(self._root, segments, 0, params)
            if node is None:
                return None
        target = node.methods.get(method)
        if target is None and method == "HEAD":
            target = node.methods.get("GET")
        if target is not None:
            return Match(target, params)
        allowed = set(node.methods) | ({"HEAD"} if "GET" in node.methods else set())
        return Match(None, params, tuple(sorted(allowed)))


def _straight(node: _Node[T], segments: list[str], params: dict[str, str]) -> _Node[T] | None:
    """The first way `_walk` tries (the literal segment wherever there is one, else the template),
    without recursion: most paths match on it, so most requests never backtrack. None: a dead end."""
    for raw in segments:
        segment = unquote(raw) if "%" in raw else raw  # most segments have no escape: no call
        found = node.literals.get(segment)
        if found is None:
            if node.param is None or not segment:
                return None
            params[node.param_name] = segment
            found = node.param
        node = found
    return node if node.methods else None


def _walk(node: _Node[T], segments: list[str], index: int, params: dict[str, str]) -> _Node[T] | None:
    if index == len(segments):
        return node if node.methods else None
    segment = unquote(segments[index])
    literal = node.literals.get(segment)
    if literal is not None:
        found = _walk(literal, segments, index + 1, params)
        if found is not None:
            return found
    if node.param is not None and segment:
        params[node.param_name] = segment
        found = _walk(node.param, segments, index + 1, params)
        if found is not None:
            return found
        del params[node.param_name]
    return None


def _segments(path: str) -> list[str]:
    # A trailing slash is its own (empty) segment: `/v1/webhooks/` and `/v1/webhooks` differ.
    return path.split("/")[1:] if path.startswith("/") else path.split("/")
