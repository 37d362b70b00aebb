"""Shared by the client-verification tests: the example clients, and their planted bugs by name.

Importable from the test modules because pytest puts this directory on sys.path (no __init__.py).
"""

from __future__ import annotations

import functools
import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
APPS = Path(__file__).resolve().parent / "apps"  # defective_clients: one small client per defect
for _folder in (EXAMPLES, APPS):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

CLIENTS = {
    "istockist": "istockist_client",
    "konducter": "konducter_client",
    "plggr": "plggr_client",
    "pingnetwork": "pingnetwork_client",
    "lagerkoll": "lagerkoll_client",
}


def client(api: str, *bugs: str):
    """The example client of `api` as a function `(base_url, credentials)`, with planted bugs switched on."""
    module = importlib.import_module(CLIENTS[api])
    unknown = set(bugs) - module.BUGS
    assert not unknown, f"{api} has no planted bug {unknown}"
    job = functools.partial(module.run, bugs=frozenset(bugs))
    job.__qualname__ = f"{CLIENTS[api]}.run" + (f"[{','.join(bugs)}]" if bugs else "")
    job.__module__ = "examples"
    return job
