"""What Schemathesis is given: the contract without the mock's own keys, and its configuration."""

from __future__ import annotations

from typing import Any

from mocks.contract import HTTP_METHODS, Contract
from mocks.verify.provider.options import ProviderOptions

STATEFUL_FACTOR = 5  # stateful scenarios per --examples


def schemathesis_config(options: ProviderOptions):
    """The user's schemathesis.toml (if any), overridden by the command line, as `st run` does."""
    from schemathesis.config import SchemathesisConfig

    config = SchemathesisConfig.discover()
    config.update(seed=options.seed, max_failures=None)
    project = config.projects.override
    # continue_on_failure: one run should report every problem it meets, not stop at the first per operation.
    project.update(base_url=options.base_url, headers=dict(options.headers) or None, basic_auth=options.basic,
                   parameters=dict(options.parameters) or None, continue_on_failure=True)
    project.phases.update(phases=list(options.phases))
    project.checks.update(included_check_names=["all"])
    # No example database: a verification run must not depend on (or litter) the working directory.
    project.generation.update(max_examples=options.examples, database="none", modes=["positive", "negative"])
    # A stateful example is a whole sequence of calls across the API, not one call of one operation.
    project.phases.stateful.generation.update(max_examples=STATEFUL_FACTOR * options.examples, database="none",
                                              modes=["positive", "negative"])
    return config


def schemathesis_document(contract: Contract) -> tuple[dict[str, Any], dict[str, str]]:
    """The contract without what only the mock reads, and the operations served at another host.

    Returns `(document, elsewhere)` where `elsewhere` maps an operation id to the server URL the
    contract names for it (its path item's or operation's own `servers`).
    """
    elsewhere: dict[str, str] = {}
    for raw_path, item in (contract.document.get("paths") or {}).items():
        item = contract.resolve(item)
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            servers = operation.get("servers") or item.get("servers")
            if servers:
                real = [s for s in servers if not s.get("x-mock-server")] or servers
                elsewhere[operation.get("operationId", f"{method.upper()} {raw_path}")] = real[0].get("url", "?")
    document = _without_mock_keys(contract.document)
    real_servers = [s for s in contract.document.get("servers", []) if not s.get("x-mock-server")]
    if real_servers:
        document["servers"] = _without_mock_keys(real_servers)
    return document, elsewhere


def _without_mock_keys(node: Any) -> Any:
    """A copy without `x-mock-*` keys (the shared contract document is never modified)."""
    if isinstance(node, dict):
        return {key: _without_mock_keys(value) for key, value in node.items()
                if not (isinstance(key, str) and key.startswith("x-mock-"))}
    if isinstance(node, list):
        return [_without_mock_keys(value) for value in node]
    return node
