"""The anchors: WireMock and Prism, installed with npm into `.cache/anchors/` on first use.

WireMock serves stub mappings that do what the sandbox's routes do for the benchmark: the GET
matches the Authorization header, the POST also matches the body against a JSON Schema. Prism
mocks the iStockist contract itself (it checks the security scheme and validates the body).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from benchmarks.routes import CUSTOMER_CREATE_SCHEMA, Routes

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "anchors"
PACKAGES = ["wiremock@3", "@stoplight/prism-cli@5"]


def install() -> None:
    if (CACHE / "node_modules" / ".bin" / "prism").exists() and _wiremock_jar(missing_ok=True):
        return
    if shutil.which("npm") is None or shutil.which("java") is None:
        raise RuntimeError("the anchors need npm and Java 17 (WireMock is a Java program)")
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"installing {', '.join(PACKAGES)} into {CACHE.relative_to(ROOT)} (first use only)", flush=True)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(CACHE), *PACKAGES],
                   check=True)


def wiremock_command(port: int, routes: Routes, *, journal: bool) -> list[str]:
    root = CACHE / f"wiremock-{'journal' if journal else 'nojournal'}"
    (root / "mappings").mkdir(parents=True, exist_ok=True)
    (root / "mappings" / "bench.json").write_text(json.dumps({"mappings": _mappings(routes)}, indent=1))
    command = ["java", "-jar", str(_wiremock_jar()), "--port", str(port), "--bind-address", "127.0.0.1",
               "--root-dir", str(root), "--disable-banner"]
    return command if journal else [*command, "--no-request-journal"]


def prism_command(port: int, contract: Path) -> list[str]:
    return [str(CACHE / "node_modules" / ".bin" / "prism"), "mock", "--port", str(port), "--host", "127.0.0.1",
            "--verboseLevel", "warn", str(contract)]


def _mappings(routes: Routes) -> list[dict]:
    authorization = {"Authorization": {"equalTo": routes.get.headers["Authorization"]}}
    return [
        {"request": {"method": "GET", "url": routes.get.path, "headers": authorization},
         "response": {"status": 200, "jsonBody": routes.customer, "headers": {"Content-Type": "application/json"}}},
        {"request": {"method": "POST", "url": routes.post.path,
                     "headers": {**authorization, "Content-Type": {"contains": "application/json"}},
                     "bodyPatterns": [{"matchesJsonSchema": CUSTOMER_CREATE_SCHEMA, "schemaVersion": "V202012"}]},
         "response": {"status": 200, "jsonBody": routes.customer, "headers": {"Content-Type": "application/json"}}},
    ]


def _wiremock_jar(*, missing_ok: bool = False) -> Path | None:
    jars = sorted((CACHE / "node_modules" / "wiremock" / "build").glob("wiremock-standalone-*.jar"))
    if not jars and not missing_ok:
        raise RuntimeError("WireMock's jar is missing from the npm package 'wiremock'")
    return jars[-1] if jars else None
