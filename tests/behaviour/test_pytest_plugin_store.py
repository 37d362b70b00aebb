"""The pytest plugin's store: `--mocks-store URL` / `MOCKS_STORE` put a user's sandbox fixtures on Redis.

Run through pytest itself (pytester) against a real `redis-server`: the user's tests see a Redis-backed
sandbox, each fixture instance in a namespace of its own that is gone once the fixture ends, and a bad
URL or a Redis that does not answer stops the run with a usage error before any test.
"""

from __future__ import annotations

import json

import pytest
import redis
from rediskit import free_port

pytest_plugins = ["pytester"]

USERS_TESTS = """
import json, pathlib

import redis

SEEN = pathlib.Path(__file__).with_name("seen.jsonl")


def remember(mocks_store, handle, made):
    client = redis.Redis.from_url(mocks_store, decode_responses=True)
    namespace = handle.api.store.namespace
    keys = list(client.scan_iter(match="{" + namespace + ":*"))
    with SEEN.open("a") as out:
        out.write(json.dumps({"store": mocks_store, "namespace": namespace, "keys": len(keys), "made": made}) + "\\n")


def test_a_customer_made_in_process(istockist, mocks_store):
    made = istockist.client.post("/v1/customers", headers=istockist.auth_headers(),
                                 json={"name": "Only here", "email": "only@here.example"})
    assert made.status_code == 200, made.text
    remember(mocks_store, istockist, made.json()["id"])


def test_the_next_test_starts_from_the_fixtures(istockist, mocks_store):
    names = [c["name"] for c in istockist.admin.state()["customer"]]
    assert "Only here" not in names
    remember(mocks_store, istockist, None)


def test_a_served_sandbox(mock_server, mocks_store):
    plggr = mock_server("plggr")
    assert plggr.client.get("/companies", headers=plggr.auth_headers()).status_code == 200
    remember(mocks_store, plggr, None)
"""


def seen(pytester: pytest.Pytester) -> list[dict]:
    return [json.loads(line) for line in (pytester.path / "seen.jsonl").read_text().splitlines()]


def keys_of(url: str, namespace: str) -> list[str]:
    client = redis.Redis.from_url(url, decode_responses=True)
    return [key for key in client.scan_iter(match="{" + namespace + "*") if key.startswith("{" + namespace)]


def test_mocks_store_runs_the_users_tests_on_redis_each_fixture_in_its_own_namespace_dropped_after(
        pytester: pytest.Pytester, redis_url: str) -> None:
    pytester.makepyfile(test_users=USERS_TESTS)
    result = pytester.runpytest("--mocks-store", redis_url, "-p", "no:randomly")
    result.assert_outcomes(passed=3)
    runs = seen(pytester)
    assert [run["store"] for run in runs] == [redis_url] * 3
    assert all(run["namespace"].startswith("pytest-") for run in runs)
    assert len({run["namespace"] for run in runs}) == 3, "one namespace per fixture instance"
    assert all(run["keys"] > 0 for run in runs), "the sandbox's state was in Redis while the test ran"
    for run in runs:
        assert keys_of(redis_url, run["namespace"]) == [], f"{run['namespace']} left behind"


def test_the_mocks_store_variable_does_the_same(pytester: pytest.Pytester, redis_url: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKS_STORE", redis_url.replace("redis://", "valkey://"))
    pytester.makepyfile(test_users=USERS_TESTS)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)
    assert {run["store"] for run in seen(pytester)} == {redis_url}, "valkey:// is read as redis://"


def test_without_the_option_the_store_is_memory(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOCKS_STORE", raising=False)
    pytester.makepyfile(test_users="""
from mocks.state import MemoryStore

def test_memory(plggr, mocks_store):
    assert mocks_store == "memory"
    assert isinstance(plggr.api.store, MemoryStore)
""")
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize(("store", "says"), [
    ("sqlite://x", "unknown store 'sqlite://x' (use memory, redis://HOST:PORT/DB"),
    ("redis://127.0.0.1:port/0", "the port is not a number"),
    ("redis://127.0.0.1:{free}/0", "does not answer"),
])
def test_a_bad_url_or_a_silent_redis_is_a_usage_error_before_any_test(pytester: pytest.Pytester, store: str,
                                                                        says: str) -> None:
    pytester.makepyfile(test_users="def test_never_runs(istockist):\n    raise AssertionError('ran')\n")
    result = pytester.runpytest("--mocks-store", store.format(free=free_port()))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = "\n".join(result.errlines)
    assert "ERROR: --mocks-store / MOCKS_STORE: " in errors and says in errors, errors
    assert "Traceback" not in errors and "never_runs" not in "\n".join(result.outlines)


def test_the_option_wins_over_the_variable(pytester: pytest.Pytester, redis_url: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKS_STORE", f"redis://127.0.0.1:{free_port()}/0")  # nothing answers there
    pytester.makepyfile(test_users=f"""
def test_store(mocks_store):
    assert mocks_store == {redis_url!r}
""")
    pytester.runpytest("--mocks-store", redis_url).assert_outcomes(passed=1)
