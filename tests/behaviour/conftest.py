"""Every behaviour test that gets its sandbox from the `mocks_store` fixture runs twice: `[memory]` and `[redis]`.

The plugin's fixtures (`istockist`, `mock_api`, `mock_server`, ...) ask for `mocks_store`; overriding it
here with two parameters runs each such test on the memory store and on a real Redis (the session's
`redis_url`, a fresh namespace per sandbox, deleted afterwards). Tests that start `mocks serve`
processes or are about one store only do not ask for it, and run once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mocks.pytest_plugin import Namespaces


@pytest.fixture(scope="session", params=["memory", "redis"])
def mocks_store(request: pytest.FixtureRequest) -> str:
    return "memory" if request.param == "memory" else request.getfixturevalue("redis_url")


@pytest.fixture
def store_namespace(mocks_store: str) -> Iterator[str]:
    """A namespace of this test's own on the store (deleted afterwards), for a sandbox the test builds itself."""
    namespaces = Namespaces(mocks_store)
    yield namespaces.new()
    namespaces.drop()
