"""What a serving sandbox loads: not the verifiers or their libraries, but uvloop and httptools.

Hypothesis, Schemathesis and `mocks.verify` are for the verify commands, httpx for webhook
deliveries and in-process clients; a server that imports them starts slower and sits bigger in
memory. The real `mocks serve` process runs with Python's own import log switched on
(PYTHONPROFILEIMPORTTIME, as `python -X importtime`), serves requests, and its log is read after
SIGTERM.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest
from servekit import ALL_PORTS_FREE, end

# the verify commands' own; httpx only for webhook deliveries and in-process clients (~60 ms of start-up)
SERVING_NEVER_IMPORTS = ("hypothesis", "schemathesis", "mocks.verify", "httpx")
IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$")


def test_serving_all_five_apis_imports_neither_the_verifiers_nor_httpx(serve, monkeypatch):
    monkeypatch.setenv("PYTHONPROFILEIMPORTTIME", "1")
    served = serve(*ALL_PORTS_FREE)
    assert len(served.admin_links) == 5
    for link in served.admin_links.values():
        assert httpx.get(link, timeout=10).status_code == 200
    modules = _imports_of(served)
    assert "mocks.server" in modules and "uvicorn" in modules  # the log is complete enough to trust
    loaded = sorted(m for m in modules if any(m == name or m.startswith(f"{name}.") for name in SERVING_NEVER_IMPORTS))
    assert loaded == [], f"mocks serve imported what serving does not use: {loaded}"


def test_serving_runs_on_uvloop_and_httptools_where_installed(serve, monkeypatch):
    pytest.importorskip("uvloop")
    pytest.importorskip("httptools")
    monkeypatch.setenv("PYTHONPROFILEIMPORTTIME", "1")
    served = serve("istockist", "--port", "istockist=0")
    assert httpx.get(served.admin_links["istockist"], timeout=10).status_code == 200
    modules = _imports_of(served)
    assert "uvloop" in modules and "uvicorn.protocols.http.httptools_impl" in modules


def _imports_of(served) -> set[str]:
    """Every module the process imported, from its import log on stderr, once it has ended."""
    end(served)
    deadline = time.monotonic() + 10
    while not served.stderr and time.monotonic() < deadline:  # the reader thread drains stderr after exit
        time.sleep(0.05)
    return {m[1] for m in map(IMPORTED.match, served.stderr) if m}


def test_serving_from_the_yaml_cache_imports_neither_pyyaml_nor_package_metadata(serve, monkeypatch, tmp_path):
    """PyYAML (~30 ms) only parses what the cache lacks, package metadata (~50 ms) only names the HAR
    export's creator: a second start-up on the same cache needs neither."""
    monkeypatch.setenv("MOCKS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PYTHONPROFILEIMPORTTIME", "1")
    first = serve("istockist", "--port", "istockist=0")
    assert "yaml" in _imports_of(first)  # a cold cache: parsed, and so the log shows the import
    served = serve("istockist", "--port", "istockist=0")
    assert httpx.get(served.admin_links["istockist"], timeout=10).status_code == 200
    modules = _imports_of(served)
    assert "mocks.server" in modules
    assert not {"yaml", "importlib.metadata"} & modules
