"""The layers of mocks/: no import circle, no import that runs back up, no module over 400 lines.

Imports are read with `ast` from every module, those inside functions and under TYPE_CHECKING
too (a function-level import is still a dependency; hiding one is how the old circles hid). A
module also depends on the packages above it (`mocks.a.b` runs `mocks/a/__init__.py` first).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "mocks"  # tests/unit/ -> repo/mocks
LIMIT = 400

# Bottom to top. A module may import its own layer or lower ones; never a higher one.
# Every module must be listed (a new module has to choose its layer). An entry ending in ".*" is a
# prefix: the package and everything under it (mocks/state/ and mocks/verify/ reorganise inside
# themselves without touching this table).
LAYERS: list[tuple[str, set[str]]] = [
    ("vocabulary", {"types", "templates", "routing", "clock", "media", "jsonwrite", "urls", "yamlfile",
                    "outbound", "outbound_transport", "connection_limits", "eventloop", "heap", "joined_writes",
                    "ids"}),
    ("contract", {"contract", "catalog", "fixtures", "errors", "validation", "rendering", "examples",
                  "conformance", "faults", "credentials"}),
    ("state", {"state.*"}),
    ("stages", {"faultbook", "resources", "auth", "ratelimit", "idempotency", "scope", "cors", "stages", "journal",
                "events", "deliveries", "scenarios", "scenarios.model"}),
    ("runtime", {"runtime", "exchange", "seeding"}),
    ("acts", {"actions", "listing", "webhooks", "delivery_worker", "apis", "apis.istockist",
              "apis.lagerkoll", "apis.pingnetwork"}),
    ("pipeline", {"operations", "pipeline"}),
    ("steering", {"steering", "engine", "registry", "scenarios.apply"}),
    ("adapters", {"asgi", "protocol", "direct_lane", "admin_gate", "inprocess", "admin", "admin.table", "admin.sandbox",
                  "admin.steer", "scenarios.replay", "har", "snapshot", "state_pages", "console",
                  "console.assets", "console.links", "console.routes", "console.stream", "app"}),
    ("serve", {"server", "control", "workers"}),
    ("verify", {"verify.*"}),
    ("entry", {"cli", "pytest_plugin", "__init__"}),  # what users run or import: may use everything
]

def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1] or ["__init__"]
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def layer_of(name: str) -> int:
    for index, (_, members) in enumerate(LAYERS):
        for member in members:
            if name == member or (member.endswith(".*") and (name == member[:-2] or name.startswith(member[:-1]))):
                return index
    raise AssertionError(f"mocks.{name} is in no layer: add it to LAYERS in {__file__}")


def imports_of(name: str) -> set[str]:
    """Every mocks module `name` imports (relative to mocks.), wherever the import statement is."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" and name != "__init__" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(["mocks", *base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            # `from mocks.x import y`: y may be a module (mocks.x.y) or a name in mocks.x
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}"[6:] in MODULES else module for a in node.names]
        else:
            continue
        for target in targets:
            if target == "mocks" or target.startswith("mocks."):
                short = target[6:] or "__init__"
                parts = short.split(".")
                # importing mocks.a.b runs mocks/a/__init__.py too
                found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1) if ".".join(parts[:i]) in MODULES)
    found.discard(name)
    # a submodule always runs its own packages' __init__ first: containment, not a dependency
    own = {".".join(name.split(".")[:i]) for i in range(1, len(name.split(".")))}
    return found - own


GRAPH = {name: imports_of(name) for name in MODULES}


def test_every_module_has_a_layer():
    for name in MODULES:
        layer_of(name)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_import_runs_up(name):
    mine = layer_of(name)
    upward = sorted(t for t in GRAPH[name] if layer_of(t) > mine)
    assert not upward, f"mocks.{name} ({LAYERS[mine][0]}) imports higher layers: " + ", ".join(
        f"mocks.{t} ({LAYERS[layer_of(t)][0]})" for t in upward)


def circles() -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan: every strongly connected component of >1 module is a circle
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for name in GRAPH:
        if name not in index:
            visit(name)
    return sorted(circles)


def test_no_import_circle():
    found = circles()
    assert not found, "import circles: " + "; ".join(" <-> ".join(c) for c in found)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_under_400_lines(name):
    lines = lines_of(name)
    assert lines <= LIMIT, f"mocks/{MODULES[name].relative_to(ROOT)} has {lines} lines (at most {LIMIT})"


def lines_of(name: str) -> int:
    return len(MODULES[name].read_text(encoding="utf-8").splitlines())


def test_engine_is_well_under_the_limit():
    assert lines_of("engine") <= 200
