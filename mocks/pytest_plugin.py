"""pytest plugin (entry point `mocks`): the five sandbox APIs as fixtures.

    def test_sync(lagerkoll):                 # in-process, fresh state per test
        r = lagerkoll.client.get("/v1/stores/", headers=lagerkoll.auth_headers())
        lagerkoll.admin.add_fault(operation="createWebhook", respond=429, times=1)

    def test_real_port(mock_server):          # a real socket, for clients in other processes
        api = mock_server("istockist")
        subprocess.run(["./my-client"], env={"ISTOCKIST_URL": api.base_url})

`pytest --mocks-store redis://HOST:PORT/DB` (or `MOCKS_STORE`) puts every sandbox a fixture makes on
that Redis, each in a namespace of its own (`pytest-<uuid>`) that is deleted when the fixture ends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from mocks.app import MockApp
from mocks.control import Admin, auth_headers, conformance_hook
from mocks.engine import Api
from mocks.ids import random_hex
from mocks.inprocess import in_process_client
from mocks.registry import API_NAMES, load_api
from mocks.state import DEFAULT_NAMESPACE, StoreUnavailable, check_store, drop_namespace, store_url
from mocks.urls import admin_url

_STORE = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("mocks").addoption(
        "--mocks-store", metavar="URL", default=None,
        help="the store of the sandbox fixtures: memory (default) or redis://HOST:PORT/DB (also rediss://, "
             "valkey://); default: $MOCKS_STORE, else memory")


def pytest_configure(config: pytest.Config) -> None:
    """The store is checked once, before any test: a bad URL or a silent Redis is a usage error, not N failures."""
    chosen = config.getoption("mocks_store") or os.environ.get("MOCKS_STORE") or "memory"
    try:
        url = store_url(chosen)
        check_store(url)
    except (ValueError, StoreUnavailable) as exc:
        raise pytest.UsageError(f"--mocks-store / MOCKS_STORE: {exc}") from None
    config.stash[_STORE] = url


@pytest.fixture(scope="session")
def mocks_store(pytestconfig: pytest.Config) -> str:
    """The store every sandbox fixture uses: "memory", or the Redis URL given by --mocks-store / MOCKS_STORE."""
    return pytestconfig.stash[_STORE]


class Namespaces:
    """A fresh namespace per sandbox on a shared store, each deleted at the end (the memory store needs none)."""

    def __init__(self, store: str) -> None:
        self.store, self.taken = store, []

    def new(self) -> str:
        if self.store == "memory":
            return DEFAULT_NAMESPACE
        self.taken.append(f"pytest-{random_hex(16)}")
        return self.taken[-1]

    def drop(self) -> None:
        for namespace in self.taken:
            drop_namespace(self.store, namespace)


@dataclass
class MockHandle:
    """One mock API in a test: where it is, how to call it, how to steer it."""

    name: str
    api: Api
    base_url: str
    client: httpx.Client
    admin: Admin
    listeners: dict[str, str] = field(default_factory=dict)  # listener name -> base URL

    @property
    def credentials(self) -> list[dict[str, Any]]:
        return self.admin.info()["credentials"]

    def credential(self, principal: str | None = None):
        credentials = self.api.fixtures.credentials
        if principal is None:
            return credentials[0]
        return next(c for c in credentials if c.principal.id == principal)

    def auth_headers(self, principal: str | None = None, scope: str | None = None) -> dict[str, str]:
        """Headers that authenticate as a sandbox principal (its static credentials)."""
        return auth_headers(self.api, principal, scope)

    def close(self) -> None:
        self.client.close()
        self.admin.http.close()


def in_process(name: str, *, validate: bool = True, listener: str | None = None, api: Api | None = None,
               store: str = "memory", namespace: str = DEFAULT_NAMESPACE) -> MockHandle:
    api = api or load_api(name, store=store, namespace=namespace)
    app = MockApp(api, listener or api.primary_listener)
    base = "http://mock.test"
    hooks = {"response": [conformance_hook(name, listener or api.primary_listener)]} if validate else {}
    client = in_process_client(app, base_url=base, event_hooks=hooks)
    admin = Admin(in_process_client(MockApp(api, api.primary_listener), base_url=base))
    return MockHandle(name, api, base, client, admin, {listener or api.primary_listener: base})


@pytest.fixture
def mock_api(mocks_store: str):
    """Factory: `mock_api("plggr", validate=True, listener=None)` -> an in-process MockHandle."""
    handles: list[MockHandle] = []
    namespaces = Namespaces(mocks_store)

    def make(name: str, **options: Any) -> MockHandle:
        if options.get("api") is None:
            options |= {"store": mocks_store, "namespace": namespaces.new()}
        handle = in_process(name, **options)
        handles.append(handle)
        return handle

    yield make
    for handle in handles:
        handle.close()
    namespaces.drop()


@pytest.fixture
def mock_server(mocks_store: str) -> Iterator[Any]:
    """Factory: `mock_server("istockist", ...)` -> a MockHandle served on a real port (a free one)."""
    from mocks.server import Sandbox

    sandboxes: list[Sandbox] = []
    handles: list[MockHandle] = []
    namespaces = Namespaces(mocks_store)

    def make(*names: str, validate: bool = True) -> MockHandle | dict[str, MockHandle]:
        ports = {n: 0 for n in names} | {
            f"{n}.{listener}": 0 for n in names for listener in load_api(n).contract.listeners}
        sandbox = Sandbox.create(list(names), store=mocks_store, namespace=namespaces.new(), ports=ports)
        sandbox.start()
        sandboxes.append(sandbox)
        made = {}
        for name in names:
            api = sandbox.apis[name]
            urls = api.base_urls
            base = urls[api.primary_listener]
            hooks = {"response": [conformance_hook(name)]} if validate else {}
            client = httpx.Client(base_url=base, event_hooks=hooks, timeout=10)
            admin_base = admin_url(base)
            made[name] = MockHandle(name, api, base, client, Admin(httpx.Client(base_url=admin_base, timeout=10)),
                                    dict(urls))
            handles.append(made[name])
        return made[names[0]] if len(names) == 1 else made

    yield make
    for handle in handles:
        handle.close()
    for sandbox in sandboxes:
        sandbox.shutdown()
    namespaces.drop()


def _api_fixture(name: str):
    @pytest.fixture(name=name)
    def fixture(mock_api) -> MockHandle:
        return mock_api(name)

    fixture.__doc__ = f"The {name} mock, in-process, fresh state, responses checked against its contract."
    return fixture


for _name in API_NAMES:
    globals()[f"_{_name}_fixture"] = _api_fixture(_name)


# client verification ---------------------------------------------------------------------------

@pytest.fixture
def verify_client(tmp_path):
    """Run a Python client function under generated fault schedules; fail the test with the shrunk one.

        def sync(base_url: str, credentials: dict) -> None:   # raise (or sys.exit(1)) when the job failed
            ...

        def test_sync_survives_faults(verify_client):
            verify_client(api="istockist", client=sync, examples=20)

    The function runs in a forked process per schedule with the MOCKS_* variables set, against a
    sandbox on a real port; the same properties as `mocks verify-client` decide. On failure the test
    fails with the minimal schedule in plain words; its scenario file is written under tmp_path.
    `api` may name several APIs (a list): the function then gets dicts by API name. `expect=` takes
    callables over what a run left, checked after every run that returns (mocks.verify.client.expectations).
    """
    from mocks.verify.client import failure_text, verify_function

    def run(api, client, *, examples: int = 20, seed: int | None = 0, timeout: float = 10.0,
            shrink_seconds: float = 30.0, expect=()):
        outcome = verify_function(api, client, examples=examples, seed=seed, timeout=timeout,
                                  scenario_dir=tmp_path, shrink_seconds=shrink_seconds, expect=expect)
        if not outcome.passed:
            pytest.fail(failure_text(outcome), pytrace=False)
        return outcome

    return run
