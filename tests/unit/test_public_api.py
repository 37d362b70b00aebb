"""The names users import and the fixtures the pytest plugin registers: changing them is a breaking change."""

from __future__ import annotations

import mocks
from mocks import pytest_plugin


def test_package_exports():
    assert sorted(mocks.__all__) == ["API_NAMES", "build_app", "load_api"]
    assert mocks.API_NAMES == ("konducter", "lagerkoll", "istockist", "pingnetwork", "plggr")


def test_plugin_fixtures(pytestconfig):
    manager = pytestconfig.pluginmanager
    assert manager.get_plugin("mocks") is pytest_plugin, "registered through the pytest11 entry point"
    fixtures = {name for name in dir(pytest_plugin) if hasattr(getattr(pytest_plugin, name), "_pytestfixturefunction")
                or type(getattr(pytest_plugin, name)).__name__ == "FixtureFunctionDefinition"}
    names = {getattr(pytest_plugin, f).name if hasattr(getattr(pytest_plugin, f), "name") else f for f in fixtures}
    assert {"mock_api", "mock_server", "verify_client", *mocks.API_NAMES} <= names
