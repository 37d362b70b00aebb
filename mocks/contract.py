"""Load a contract once: resolve references and expose its operations and x-mock declarations."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mocks.yamlfile import load_yaml_file

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
CONTRACTS_DIR = Path(__file__).resolve().parent.parent / "contracts"


class ContractError(Exception):
    """The contract cannot be served as written."""


@dataclass(slots=True)
class Operation:
    id: str
    method: str  # upper case
    path: str  # the served path template, route prefix included
    tags: tuple[str, ...]
    spec: dict[str, Any]
    parameters: list[dict[str, Any]]
    request_body: dict[str, Any] | None
    responses: dict[str, dict[str, Any]]
    security: list[dict[str, list[str]]]
    action: dict[str, Any] = field(default_factory=dict)

    @property
    def success_status(self) -> int:
        codes = sorted(int(code) for code in self.responses if code.isdigit() and code.startswith("2"))
        return codes[0] if codes else 200

    def response(self, status: int) -> dict[str, Any] | None:
        return self.responses.get(str(status)) or self.responses.get(f"{str(status)[0]}XX")


class Contract:
    def __init__(self, document: dict[str, Any], source: str = "<memory>") -> None:
        self.document = document
        self.source = source
        self.inlined: dict[tuple[str, int], Any] = {}  # inline_schema's results for bare references
        api = document.get("x-mock-api") or {}
        if "name" not in api:
            raise ContractError(f"{source}: x-mock-api.name is required")
        self.name: str = api["name"]
        self.title: str = api.get("title") or document.get("info", {}).get("title", self.name)
        self.module: str | None = api.get("module")
        self.listeners: dict[str, dict[str, Any]] = api.get("listeners") or {"api": {"port": 0}}
        self.prefix = _mock_prefix(document.get("servers", []))
        self.security_schemes = {
            name: self.resolve(scheme)
            for name, scheme in (document.get("components", {}).get("securitySchemes") or {}).items()
        }
        self.operations = list(self._operations())

    @classmethod
    def load(cls, name_or_path: str | Path) -> Contract:
        path = Path(name_or_path)
        if not path.suffix:
            path = CONTRACTS_DIR / f"{name_or_path}.yaml"
        return cls(load_yaml_file(path), str(path))

    def serves(self, listener: str | None, operation: Operation) -> bool:
        """Whether `listener` serves `operation`: a listener that declares tags serves only operations
        carrying one of them (None, an unknown listener or no tags: every operation)."""
        tags = (self.listeners.get(listener) or {}).get("tags") if listener else None
        return not tags or bool(set(tags) & set(operation.tags))

    def extension(self, name: str, default: Any = None) -> Any:
        return self.document.get(f"x-mock-{name}", default)

    def resolve(self, node: Any) -> Any:
        """Follow `$ref` (of parameters, responses, bodies, headers, examples) to its target."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            node = self.pointer(node["$ref"])
            seen += 1
            if seen > 32:
                raise ContractError(f"{self.source}: reference loop at {node}")
        return node

    def pointer(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise ContractError(f"{self.source}: only local references are supported, got {ref}")
        node: Any = self.document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            try:
                node = node[part]
            except (KeyError, TypeError) as exc:
                raise ContractError(f"{self.source}: unresolvable reference {ref}") from exc
        return node

    def rooted(self, schema: dict[str, Any]) -> dict[str, Any]:
        """A schema whose `#/components/...` references resolve, for a JSON Schema validator.

        Only the components it reaches are attached: a validator copies its whole document, and
        copying every component for each of ~70 validators took most of a start-up."""
        components: dict[str, dict[str, Any]] = {}
        todo: list[Any] = [schema]
        while todo:
            node = todo.pop()
            if isinstance(node, list):
                todo.extend(node)
            elif isinstance(node, dict):
                todo.extend(node.values())
                ref = node.get("$ref")
                if isinstance(ref, str) and ref.startswith("#/components/"):
                    kind, _, rest = ref.removeprefix("#/components/").partition("/")
                    name = rest.split("/", 1)[0].replace("~1", "/").replace("~0", "~")
                    target = (self.document.get("components", {}).get(kind) or {}).get(name)
                    if target is not None and name not in components.setdefault(kind, {}):
                        components[kind][name] = target
                        todo.append(target)
        return {**schema, "components": components}

    def operation(self, operation_id: str) -> Operation:
        for op in self.operations:
            if op.id == operation_id:
                return op
        raise KeyError(operation_id)

    def _operations(self):
        global_security = self.document.get("security", [])
        for raw_path, item in (self.document.get("paths") or {}).items():
            item = self.resolve(item)
            prefix = _mock_prefix(item["servers"]) if item.get("servers") else self.prefix
            shared = [self.resolve(p) for p in item.get("parameters", [])]
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                spec = item[method]
                if "operationId" not in spec:
                    raise ContractError(f"{self.source}: {method.upper()} {raw_path} has no operationId")
                own = [self.resolve(p) for p in spec.get("parameters", [])]
                names = {(p["name"], p["in"]) for p in own}
                body = self.resolve(spec["requestBody"]) if "requestBody" in spec else None
                yield Operation(
                    id=spec["operationId"],
                    method=method.upper(),
                    path=prefix + raw_path,
                    tags=tuple(spec.get("tags", ())),
                    spec=spec,
                    parameters=[p for p in shared if (p["name"], p["in"]) not in names] + own,
                    request_body=body,
                    responses={str(k): self.resolve(v) for k, v in spec.get("responses", {}).items()},
                    security=spec.get("security", global_security),
                    action=spec.get("x-mock-action") or {},
                )


def _mock_prefix(servers: list[dict[str, Any]]) -> str:
    for server in servers:
        if server.get("x-mock-server"):
            return urlsplit(server["url"]).path.rstrip("/")
    return ""


def inline_schema(contract: Contract, schema: Any, depth: int = 12) -> Any:
    """A copy of `schema` with local references replaced by their targets (bounded for cycles).

    A bare reference is inlined once per depth and shared: the same components are reached from
    every operation, and inlining them again and again was half of loading a contract. Callers
    only read the result."""
    if depth == 0:
        return {}
    if isinstance(schema, dict):
        if len(schema) == 1 and isinstance(schema.get("$ref"), str):
            key = (schema["$ref"], depth)
            if key not in contract.inlined:
                contract.inlined[key] = inline_schema(contract, contract.pointer(schema["$ref"]), depth - 1)
            return contract.inlined[key]
        if "$ref" in schema:
            target = contract.pointer(schema["$ref"])
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            return inline_schema(contract, {**target, **rest}, depth - 1)
        return {key: inline_schema(contract, value, depth) for key, value in schema.items()}
    if isinstance(schema, list):
        return [inline_schema(contract, item, depth) for item in schema]
    return schema
