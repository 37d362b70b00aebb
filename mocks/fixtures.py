"""Sandbox fixtures: tenants, credentials and seed resources from fixtures/<api>/sandbox.yaml."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mocks.types import Principal
from mocks.yamlfile import load_yaml_file

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"


@dataclass(slots=True)
class Credential:
    principal: Principal
    schemes: dict[str, Any]
    grant: dict[str, Any] | None
    description: str = ""


@dataclass(slots=True)
class Fixtures:
    tenants: dict[str, dict[str, Any]] = field(default_factory=dict)  # scope -> tenant entry
    credentials: list[Credential] = field(default_factory=list)
    resources: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def principals(self) -> dict[str, Principal]:
        return {c.principal.id: c.principal for c in self.credentials}

    def tenant_attributes(self, scope: str | None) -> dict[str, Any]:
        return (self.tenants.get(str(scope)) or {}).get("attributes") or {}


def load_fixtures(api: str, directory: Path | None = None) -> Fixtures:
    path = (directory or FIXTURES_DIR) / api / "sandbox.yaml"
    if not path.exists():
        return Fixtures()
    return parse_fixtures(load_yaml_file(path) or {})


def parse_fixtures(raw: dict[str, Any]) -> Fixtures:
    credentials = []
    for entry in raw.get("credentials") or []:
        attributes = dict(entry.get("attributes") or {})
        principal = Principal(str(entry["principal"]), tuple(str(s) for s in entry.get("scopes") or ()), attributes)
        credentials.append(Credential(principal, dict(entry.get("schemes") or {}), entry.get("grant"),
                                      entry.get("description", "")))
    return Fixtures(
        tenants={str(t["scope"]): t for t in raw.get("tenants") or []},
        credentials=credentials,
        resources={name: list(items or []) for name, items in (raw.get("resources") or {}).items()},
    )
