"""Pure helpers for the contract tests: loading, walking and rendering.

No pytest here; conftest.py turns these into fixtures. The engine (mocks/) will
have its own template code; `render` below is the README's rule and nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
FIXTURES = ROOT / "fixtures"
X_MOCK_SCHEMA = CONTRACTS / "x-mock.schema.yaml"
README = CONTRACTS / "README.md"

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
JSON_MEDIA = re.compile(r"^application/([a-z0-9.-]+\+)?json$")
XML_MEDIA = re.compile(r"^(application|text)/([a-z0-9.-]+\+)?xml$")


# ------------------------------------------------------------------ loading


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def readme_contract_files() -> list[str]:
    """Contract stems from the README's file table (`| `konducter.yaml` | ...`)."""
    text = README.read_text(encoding="utf-8")
    return re.findall(r"^\|\s*`([a-z0-9-]+)\.yaml`\s*\|", text, flags=re.MULTILINE)


def contract_names() -> list[str]:
    """Every contract the README lists, plus any other contracts/*.yaml."""
    found = {p.stem for p in CONTRACTS.glob("*.yaml") if p.name != X_MOCK_SCHEMA.name}
    listed = readme_contract_files()
    return listed + sorted(found - set(listed))


def documented_extensions() -> dict[str, str]:
    """extension -> where it goes, from the README's "Where each extension goes" table."""
    text = README.read_text(encoding="utf-8")
    rows = re.findall(r"^\|\s*`(x-mock-[a-z-]+)`\s*\|\s*([^|]+?)\s*\|", text, flags=re.MULTILINE)
    return dict(rows)


def registry_for(doc: Any, uri: str) -> Registry:
    return Registry().with_resource(uri, Resource.from_contents(doc, default_specification=DRAFT202012))


def pointer(*tokens: Any) -> str:
    return "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in tokens)


def validator_at(registry: Registry, uri: str, ptr: str) -> Draft202012Validator:
    """A validator for the schema at `ptr` of the document registered under `uri`."""
    ref = {"$ref": f"{uri}#{quote(ptr, safe='/~')}"}
    return Draft202012Validator(ref, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


def errors_of(validator: Draft202012Validator, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path)))
    ]


@dataclass
class Contract:
    """One loaded contract: the document, its registry and its x-mock-* blocks."""

    name: str
    path: Path
    doc: dict[str, Any]
    uri: str = field(init=False)

    def __post_init__(self) -> None:
        self.uri = f"https://mocks.invalid/contracts/{self.path.name}"

    @cached_property
    def registry(self) -> Registry:
        return registry_for(self.doc, self.uri)

    @property
    def api_name(self) -> str:
        return (self.doc.get("x-mock-api") or {}).get("name", self.name)

    @property
    def errors(self) -> dict[str, Any]:
        return self.doc.get("x-mock-errors") or {}

    @property
    def codes(self) -> dict[str, dict]:
        return {str(k): v for k, v in (self.errors.get("codes") or {}).items()}

    @property
    def resources(self) -> dict[str, dict]:
        return self.doc.get("x-mock-resources") or {}

    @property
    def policies(self) -> list[dict]:
        return self.doc.get("x-mock-rate-limits") or []

    @property
    def schemes(self) -> dict[str, dict]:
        return (self.doc.get("components") or {}).get("securitySchemes") or {}

    def policies_covering(self, op: Mapping) -> list[dict]:
        """The rate-limit policies whose applies-to covers this operation."""
        found = []
        for policy in self.policies:
            target = policy.get("applies-to")
            if (target == "all"
                    or (isinstance(target, Mapping) and set(target.get("tags") or []) & set(op.get("tags") or []))
                    or (isinstance(target, Mapping) and op.get("operationId") in (target.get("operations") or []))):
                found.append(policy)
        return found

    def template_name(self, op: Mapping | None, code: Mapping) -> str:
        """Template an error renders with: the operation's, else the code's, else default."""
        if op is not None and op.get("x-mock-error-template"):
            return op["x-mock-error-template"]
        return code.get("template") or "default"

    def error_body(self, code_key: str, template_name: str, field_value: Any = None) -> Any:
        """The body the engine would send for an error code, by the README's template rule."""
        code = self.codes[code_key]
        template = (self.errors.get("templates") or {})[template_name]
        context = {**code, "field": field_value, "now": "2024-01-01T00:00:00Z", "now_unix": 1704067200}
        return render(template, context)


# ------------------------------------------------------------------ document walking


def resolve(doc: Any, node: Any) -> Any:
    """Follow local $ref chains (`#/...`) of an OpenAPI object."""
    seen = set()
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
        ref = node["$ref"]
        if ref in seen:
            raise ValueError(f"$ref cycle at {ref}")
        seen.add(ref)
        node = lookup(doc, ref[1:])
    return node


def ref_pointer(doc: Any, node: Any, ptr: str) -> str:
    """The pointer of the object `node` (at `ptr`) stands for, following $refs."""
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
        ptr = node["$ref"][1:]
        node = lookup(doc, ptr)
    return ptr


def lookup(doc: Any, ptr: str) -> Any:
    node = doc
    for raw in ptr.split("/")[1:] if ptr else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def operations(doc: Mapping, section: str = "paths") -> Iterator[tuple[str, str, dict, dict]]:
    """(path, method, operation, path item) of a section (`paths` or `webhooks`)."""
    for path, item in (doc.get(section) or {}).items():
        item = resolve(doc, item)
        for method in METHODS:
            if isinstance(item.get(method), Mapping):
                yield path, method, item[method], item


def all_operations(doc: Mapping) -> Iterator[tuple[str, str, str, dict, dict]]:
    for section in ("paths", "webhooks"):
        for path, method, op, item in operations(doc, section):
            yield section, path, method, op, item


def op_label(method: str, path: str, op: Mapping) -> str:
    return f"{method.upper()} {path} ({op.get('operationId', 'no operationId')})"


def parameters(doc: Mapping, op: Mapping, item: Mapping) -> dict[tuple[str, str], dict]:
    """Effective parameters of an operation: (in, name) -> parameter, op-level winning."""
    params: dict[tuple[str, str], dict] = {}
    for source in (item.get("parameters") or [], op.get("parameters") or []):
        for p in source:
            p = resolve(doc, p)
            key = (p["in"], p["name"].lower() if p["in"] == "header" else p["name"])
            params[key] = p
    return params


def responses(doc: Mapping, op: Mapping) -> dict[str, dict]:
    return {str(k): resolve(doc, v) for k, v in (op.get("responses") or {}).items()}


def response_headers(doc: Mapping, response: Mapping) -> dict[str, dict]:
    return {k.lower(): resolve(doc, v) for k, v in (response.get("headers") or {}).items()}


def security_of(doc: Mapping, op: Mapping) -> list[dict]:
    return op["security"] if "security" in op else doc.get("security") or []


def is_secured(doc: Mapping, op: Mapping) -> bool:
    requirements = security_of(doc, op)
    return bool(requirements) and all(requirements)


def is_error_status(status: str) -> bool:
    return status[:1] in ("4", "5")


def first_success(resps: Mapping[str, Any]) -> str | None:
    ok = sorted(s for s in resps if s.startswith("2"))
    return ok[0] if ok else None


def operation_ids(doc: Mapping) -> dict[str, tuple[str, str, dict, dict]]:
    return {op["operationId"]: (path, method, op, item)
            for _, path, method, op, item in all_operations(doc) if "operationId" in op}


# ------------------------------------------------------------------ examples

_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains",
                  "unevaluatedItems", "unevaluatedProperties", "propertyNames", "contentSchema")


def _schema_examples(schema: Any, ptr: str) -> Iterator[tuple[str, str, Any]]:
    if not isinstance(schema, Mapping):
        return
    if isinstance(schema.get("examples"), list):
        for i, value in enumerate(schema["examples"]):
            yield ptr, f"{ptr}/examples/{i}", value
    if "example" in schema:
        yield ptr, f"{ptr}/example", schema["example"]
    for key in _SUBSCHEMA_MAPS:
        for name, sub in (schema.get(key) or {}).items():
            yield from _schema_examples(sub, f"{ptr}{pointer(key, name)}")
    for key in _SUBSCHEMA_LISTS:
        for i, sub in enumerate(schema.get(key) or []):
            yield from _schema_examples(sub, f"{ptr}{pointer(key, i)}")
    for key in _SUBSCHEMA_ONE:
        if key in schema:
            yield from _schema_examples(schema[key], f"{ptr}{pointer(key)}")


def examples(doc: Any) -> Iterator[tuple[str, str, Any, str]]:
    """(schema pointer, example pointer, value, media type or "") for every example.

    Covers named `examples` (and `example`) of media types, parameters and headers,
    and schema-level `examples` wherever a schema sits.
    """

    def walk(node: Any, ptr: str, media: str) -> Iterator[tuple[str, str, Any, str]]:
        if isinstance(node, list):
            for i, sub in enumerate(node):
                yield from walk(sub, f"{ptr}/{i}", media)
            return
        if not isinstance(node, Mapping):
            return
        if isinstance(node.get("schema"), Mapping | bool):
            schema_ptr = f"{ptr}/schema"
            for name, ex in (node.get("examples") or {}).items():
                ex_ptr = ref_pointer(doc, ex, f"{ptr}{pointer('examples', name)}")
                ex = lookup(doc, ex_ptr)
                if isinstance(ex, Mapping) and "value" in ex:
                    yield schema_ptr, f"{ex_ptr}/value", ex["value"], media
            if "example" in node:
                yield schema_ptr, f"{ptr}/example", node["example"], media
            for sp, ep, value in _schema_examples(node["schema"], schema_ptr):
                yield sp, ep, value, ""
        for key, sub in node.items():
            if key in ("schema", "examples", "example") or str(key).startswith("x-"):
                continue
            if key == "schemas" and ptr == "/components":
                for name, schema in sub.items():
                    for sp, ep, value in _schema_examples(schema, f"{ptr}{pointer(key, name)}"):
                        yield sp, ep, value, ""
                continue
            yield from walk(sub, f"{ptr}{pointer(key)}", key if ptr.endswith("/content") else media)

    yield from walk(doc, "", "")


def media_content(doc: Any) -> Iterator[tuple[str, str, dict]]:
    """(pointer, media type, media type object) of every `content` map in the document."""

    def walk(node: Any, ptr: str) -> Iterator[tuple[str, str, dict]]:
        if isinstance(node, list):
            for i, sub in enumerate(node):
                yield from walk(sub, f"{ptr}/{i}")
        elif isinstance(node, Mapping):
            for key, sub in node.items():
                if key in ("schema", "schemas", "examples", "example") or str(key).startswith("x-"):
                    continue
                if key == "content" and isinstance(sub, Mapping):
                    for media, obj in sub.items():
                        yield f"{ptr}{pointer('content', media)}", media, obj
                yield from walk(sub, f"{ptr}{pointer(key)}")

    yield from walk(doc, "")


# ------------------------------------------------------------------ x-mock-* keys


def x_mock_keys(doc: Any) -> Iterator[tuple[list[Any], str, Any]]:
    """(tokens of the holding object, key, value) of every key that looks like x-mock*."""

    def walk(node: Any, tokens: list[Any]) -> Iterator[tuple[list[Any], str, Any]]:
        if isinstance(node, list):
            for i, sub in enumerate(node):
                yield from walk(sub, [*tokens, i])
        elif isinstance(node, Mapping):
            for key, sub in node.items():
                if re.match(r"^x[-_]?mock", str(key), flags=re.IGNORECASE):
                    yield tokens, key, sub
                elif key not in ("examples", "example", "default", "enum", "const"):
                    yield from walk(sub, [*tokens, key])

    yield from walk(doc, [])


def placement(tokens: list[Any]) -> str:
    """Which README "on" column an object at `tokens` is: root, operation, ... or other."""
    if not tokens:
        return "root"
    if len(tokens) == 3 and tokens[0] == "webhooks" and tokens[2] in METHODS:
        return "webhooks operation"
    if tokens[-1] in METHODS and (tokens[0] in ("paths", "webhooks") or "callbacks" in tokens
                                  or tokens[:2] == ["components", "pathItems"]):
        return "operation"
    if len(tokens) == 3 and tokens[:2] == ["components", "securitySchemes"]:
        return "security scheme"
    if len(tokens) >= 2 and tokens[-2] == "servers" and isinstance(tokens[-1], int):
        return "server"
    if len(tokens) >= 2 and tokens[-2] == "content" and "responses" in tokens:
        return "response media type"
    return "other"


def allowed_placements(on: str) -> set[str]:
    on = on.replace("`", "").strip()
    if on == "operation":
        return {"operation", "webhooks operation"}
    if "webhooks" in on:
        return {"webhooks operation"}
    return {on}


# ------------------------------------------------------------------ templates

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")
_MISSING = object()


def _get(context: Mapping[str, Any], name: str) -> Any:
    node: Any = context
    for part in name.strip().split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _text(value: Any) -> str:
    if value is _MISSING or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(template: Any, context: Mapping[str, Any]) -> Any:
    """The README's template rule over any JSON value."""
    if isinstance(template, str):
        whole = re.fullmatch(r"\{([^{}]+)\}", template)
        if whole:
            value = _get(context, whole.group(1))
            return None if value is _MISSING else value

        def fill(m: re.Match[str]) -> str:
            token = m.group(0)
            if token in ("{{", "}}"):
                return token[0]
            return _text(_get(context, m.group(1)))

        return _PLACEHOLDER.sub(fill, template)
    if isinstance(template, Mapping):
        return {k: render(v, context) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, context) for v in template]
    return template


def placeholders(template: Any) -> set[str]:
    """Every placeholder name used in a template."""
    if isinstance(template, str):
        return {m.group(1).strip() for m in _PLACEHOLDER.finditer(template) if m.group(1)}
    if isinstance(template, Mapping):
        return set().union(*(placeholders(v) for v in template.values())) if template else set()
    if isinstance(template, list):
        return set().union(*(placeholders(v) for v in template)) if template else set()
    return set()
