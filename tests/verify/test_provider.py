"""verify-provider: our own mock passes; a provider with planted bugs fails and each bug is named.

Both run on real loopback ports. Budgets are small (few examples, fixed seed): the point is that
the plumbing (contract -> Schemathesis -> report) works, not to fuzz for long.
"""

from __future__ import annotations

import importlib.util
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import mocks.server
from mocks.cli import main
from mocks.registry import API_NAMES, load_contract
from mocks.server import Sandbox
from mocks.verify.provider import ProviderOptions, schemathesis_document, verify_provider

APPS = Path(__file__).parent / "apps"
TOKEN = "sandbox-token-acme"  # fixtures/plggr/sandbox.yaml: pre-issued token of acme-integration
ACME = "1a000000-0000-4000-8000-000000000001"  # one of its companies (the tenant scope)
PRODUCTS = ("listCompanies", "getCompany", "listProducts", "createProduct", "getProduct", "updateProduct",
            "deleteProduct")


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"verify_apps_{name}", APPS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _TcpSockets:
    """`socket` as mocks.server sees it, but stream sockets say IPPROTO_TCP.

    asyncio turns TCP_NODELAY on only for sockets whose proto is IPPROTO_TCP; Sandbox.bind creates
    them with proto 0, so each keep-alive response waits ~40 ms for a delayed ACK and a Schemathesis
    run takes ten times as long. Drop this once Sandbox.bind passes IPPROTO_TCP itself.
    """

    def __getattr__(self, name):
        return getattr(socket, name)

    @staticmethod
    def socket(family=socket.AF_INET, type=socket.SOCK_STREAM, proto=0, *args):
        return socket.socket(family, type, proto or socket.IPPROTO_TCP, *args)


@pytest.fixture
def plggr_mock(monkeypatch):
    monkeypatch.setattr(mocks.server, "socket", _TcpSockets())
    sandbox = Sandbox.create(["plggr"], ports={"plggr": 0}).start()
    sandbox.apis["plggr"].configure_limit("100000/s")  # the fuzzer, not the rate limit, is under test
    yield sandbox.apis["plggr"].base_urls["api"]
    sandbox.shutdown()


@pytest.fixture
def nonconforming():
    serve = _load("serving").serve
    app_module = _load("nonconforming_plggr")
    with serve(app_module.create_app()) as url:
        yield url, app_module.PLANTED


@pytest.fixture
def pinned_tenant(tmp_path, monkeypatch):
    """A schemathesis.toml in the working directory, as a user would write one for their provider."""
    (tmp_path / "schemathesis.toml").write_text(f'[parameters]\n"path.companyId" = "{ACME}"\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_mock_conforms_in_every_phase(plggr_mock):
    report = verify_provider(ProviderOptions(
        "plggr", plggr_mock, headers={"Authorization": f"Bearer {TOKEN}"}, examples=3, seed=1,
        parameters={"path.companyId": ACME}, operations=PRODUCTS))
    assert report.passed, report.render()
    assert len(report.tested) == len(PRODUCTS)
    assert set(report.cases) == {"examples", "coverage", "fuzzing", "stateful"}
    assert all(count > 0 for count in report.cases.values()), report.cases
    assert not report.warnings, report.warnings


def test_the_cli_passes_against_the_mock(plggr_mock, pinned_tenant, capsys):
    junit = pinned_tenant / "provider.xml"
    code = main(["verify-provider", "plggr", "--base-url", plggr_mock, "--bearer", TOKEN, "--examples", "2",
                 "--phases", "examples,fuzzing,stateful", "--seed", "3", "--junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 0, out
    operations = len(load_contract("plggr").operations)
    assert f"Operations: {operations - 1} tested, 1 not tested" in out
    assert "getToken: the contract serves it at https://plggr1.eu.auth0.com" in out
    assert "PASSED" in out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == \
        (str(operations), "0", "0", "1")


def test_a_nonconforming_provider_fails_and_each_planted_bug_is_named(nonconforming, pinned_tenant, capsys):
    url, planted = nonconforming
    junit = pinned_tenant / "provider.xml"
    code = main(["verify-provider", "plggr", "--base-url", url, "--header", f"Authorization: Bearer {TOKEN}",
                 "--examples", "2", "--phases", "examples,coverage", "--seed", "1", "--junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 1, out
    single_request = {op: check for op, check in planted.items() if check != "use_after_free"}
    for operation, check in single_request.items():
        assert f"[{check}]" in out, (check, out)
        assert f"{operation}: " in out
    assert "sku" in out  # the missing required field is named
    assert "Received: 200" in out  # the undocumented status
    assert "Reproduce: curl -X" in out and "pageSize=100" in out  # the server error's input
    # Nothing but the planted operations is blamed: everything else is the (conforming) mock.
    suite = ET.parse(junit).getroot().find("testsuite")
    failing = {c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None}
    assert set(single_request) <= failing <= set(planted), failing


def test_the_stateful_phase_finds_a_delete_that_does_not_delete(nonconforming):
    url, planted = nonconforming
    # create -> delete -> read along the contract's links; 6 examples find it under any seed tried (1-6).
    customers = ("createCustomer", "getCustomer", "deleteCustomer")
    report = verify_provider(ProviderOptions(
        "plggr", url, headers={"Authorization": f"Bearer {TOKEN}"}, examples=6, seed=2, phases=("stateful",),
        parameters={"path.companyId": ACME}, operations=customers))
    assert not report.passed
    found = [f for f in report.findings if f.check == "use_after_free"]
    assert [f.operation for f in found] == ["DELETE /companies/{companyId}/customers/{customerId}"]
    assert len(found[0].steps) >= 2  # a sequence: the delete, then the read that still succeeds
    assert {(f.operation, f.check) for f in report.findings} <= set(planted.items())
    assert "Reproduce (in order):" in report.render()


def test_refused_credentials_are_not_a_pass(plggr_mock, capsys):
    code = main(["verify-provider", "plggr", "--base-url", plggr_mock, "--bearer", "not-a-token",
                 "--examples", "1", "--phases", "examples", "--seed", "1"])
    out = capsys.readouterr().out
    assert code == 1
    assert "refused every request with 401/403: check the credentials" in out


def test_an_unreachable_provider_fails_fast(capsys):
    code = main(["verify-provider", "plggr", "--base-url", "http://127.0.0.1:9", "--examples", "1"])
    out = capsys.readouterr().out
    assert code == 1
    assert "The provider is not reachable" in out and "no operation could be tested" in out


def test_bad_arguments_are_usage_errors(capsys):
    assert main(["verify-provider", "plggr", "--base-url", "http://x", "--phases", "fuzz"]) == 2
    assert main(["verify-provider", "plggr", "--base-url", "http://x", "--header", "no-colon"]) == 2
    assert "NAME:VALUE" in capsys.readouterr().err


@pytest.mark.parametrize("api", API_NAMES)
def test_schemathesis_sees_the_contract_without_the_mocks_parts(api):
    contract = load_contract(api)
    before = repr(contract.document)
    document, elsewhere = schemathesis_document(contract)
    assert not [key for key in _keys(document) if key.startswith("x-mock-")]
    assert repr(contract.document) == before  # the shared contract is left alone
    assert all("localhost" not in s["url"] for s in document["servers"])
    if api == "plggr":
        assert elsewhere == {"getToken": "https://plggr1.eu.auth0.com"}
    if api == "konducter":
        assert {"listLocalOrders", "getLocalOrder"} <= set(elsewhere)
        assert all(url.startswith("http://{LocalHostname}") for url in elsewhere.values())


def _keys(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _keys(value)
    elif isinstance(node, list):
        for value in node:
            yield from _keys(value)
