"""What `mocks serve` promises works as written: its --help examples, its served contract's servers,
and the message of a contract naming a missing handler (issue 9, items 18 and 19)."""

from __future__ import annotations

import re
import subprocess
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from securitykit import admin_client
from servekit import ALL_PORTS_FREE, COMMAND, ROOT

from mocks.contract import Contract
from mocks.engine import Api
from mocks.fixtures import load_fixtures
from mocks.registry import contract_path
from mocks.state import open_store


def help_examples() -> dict[str, list[list[str]]]:
    """Each `--flag`'s `e.g. ...` example from `mocks serve --help`, as the words a user would type."""
    text = subprocess.run([*COMMAND, "serve", "--help"], cwd=ROOT, capture_output=True, text=True, check=True,
                          timeout=60).stdout
    examples: dict[str, list[list[str]]] = {}
    for tail in " ".join(text.split()).split("e.g. ")[1:]:
        words = tail.split()
        example: list[str] = []
        while len(words) >= 2 and words[0] == (example[0] if example else words[0]) \
                and words[0].startswith("--") and not words[1].startswith("--"):  # the next option ends it
            example += [words.pop(0), words.pop(0).rstrip(".,;)")]
        if example:
            examples.setdefault(example[0], []).append(example)
    return examples


def test_the_help_has_the_examples_this_test_runs():
    assert set(help_examples()) >= {"--port", "--limit"}


def test_every_limit_example_in_the_help_starts_a_sandbox_with_that_limit(serve):
    for words in help_examples()["--limit"]:
        targets = dict(pair.split("=", 1) for pair in words[1::2])
        served = serve(*sorted({t.partition(".")[0] for t in targets}), *free_ports_for(targets), *words)
        for target, rate in targets.items():
            api, _, policy = target.partition(".")
            with admin_client(served, api) as admin:
                policies = {p["name"]: p for p in admin.get("/__mock/limits").json()["policies"]}
            limit = int(re.match(r"\d+", rate)[0])
            changed = [policies[policy]] if policy else [p for p in policies.values() if p["algorithm"] != "concurrency"]
            assert changed and all(p["limit"] == limit for p in changed), (target, policies)


def test_every_port_example_in_the_help_names_a_real_api_and_listener(serve):
    """The example's port numbers become 0 (any free port): the names are what can go wrong."""
    for words in help_examples()["--port"]:
        chosen = [re.sub(r"=\d+$", "=0", word) for word in words]
        apis = sorted({word.partition("=")[0].partition(".")[0] for word in chosen[1::2]})
        served = serve(*apis, *free_ports_for(dict.fromkeys(apis)), *chosen)
        for word in chosen[1::2]:
            api, _, listener = word.partition("=")[0].partition(".")
            assert (api, listener or "api") in served.urls, served.lines


def free_ports_for(targets) -> list[str]:
    """The ALL_PORTS_FREE options of just these APIs (a --port for an API not served is an error)."""
    apis = {t.partition(".")[0] for t in targets}
    pairs = list(zip(ALL_PORTS_FREE[::2], ALL_PORTS_FREE[1::2], strict=True))
    return [word for flag, value in pairs if value.partition("=")[0].partition(".")[0] in apis
            for word in (flag, value)]


def test_an_unknown_limit_policy_names_the_known_ones():
    result = subprocess.run([*COMMAND, "serve", "plggr", "--port", "plggr=0", "--limit", "plggr.concurrency=2"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "plggr has no rate-limit policy 'concurrency'" in result.stderr
    assert "concurrent-requests" in result.stderr


@pytest.mark.parametrize("api", ["istockist", "konducter", "plggr"])
def test_openapi_json_names_the_ports_actually_bound(serve, api):
    served = serve(api, *free_ports_for([api]))
    with admin_client(served, api) as admin:
        document = admin.get("/__mock/openapi.json").json()
    bound = {urlsplit(url).port for (name, _), url in served.urls.items() if name == api}
    declared = {str(spec["port"]) for spec in yaml.safe_load(contract_path(api).read_text())["x-mock-api"][
        "listeners"].values()}
    servers = [s for s in document["servers"] if s.get("x-mock-server")]
    servers += [s for item in document["paths"].values() for s in item.get("servers", []) if s.get("x-mock-server")]
    assert servers
    for server in servers:
        port = urlsplit(server["url"]).port
        assert port in bound and str(port) not in declared - {str(p) for p in bound}, server
        with httpx.Client(timeout=5) as client:  # the URL answers: it is this sandbox
            assert client.get(server["url"].rstrip("/") + "/__mock/info").status_code in (200, 404)


def test_a_missing_handler_names_its_module_once(tmp_path):
    document = yaml.safe_load(contract_path("lagerkoll").read_text())
    text = yaml.safe_dump(document).replace("handler: execute_webhook", "handler: no_such_handler")
    (tmp_path / "lagerkoll.yaml").write_text(text)
    with pytest.raises(ValueError, match=r"executeWebhook: mocks\.apis\.lagerkoll has no handler 'no_such_handler'"):
        Api(Contract.load(tmp_path / "lagerkoll.yaml"), load_fixtures("lagerkoll"), open_store("memory"))
