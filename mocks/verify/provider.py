"""`mocks verify-provider`: is a real (or staging) provider true to our contract?

Schemathesis drives the provider with the contract in contracts/<api>.yaml: every phase
(examples, coverage, fuzzing with positive and negative data, stateful sequences along the
contract's links) and every built-in check. The run goes through Schemathesis' Python engine
(`schemathesis.engine.from_schema(...).execute()`, the event stream its own CLI consumes), so
the report below is ours: operations tested, failures grouped by check, a curl command each.

What Schemathesis sees of the contract is the OpenAPI part only: `x-mock-*` keys and the mock's
own `servers` entries are removed, and operations the contract serves from another host (a
path-level `servers`, e.g. Plggr's OAuth token endpoint or Konducter's on-site endpoints) are
not sent to --base-url: the report lists them as not tested.

A `schemathesis.toml` in the current directory (or a parent, up to the repository root) is read
as Schemathesis' own CLI reads it: parameter overrides, rate limits, timeouts and per-operation
settings go there. The command line wins over it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mocks.contract import HTTP_METHODS, Contract
from mocks.registry import load_contract
from mocks.verify.provider_report import ProviderReport, ReportBuilder

PHASES = ("examples", "coverage", "fuzzing", "stateful")
STATEFUL_FACTOR = 5  # stateful scenarios per --examples


@dataclass
class ProviderOptions:
    api: str
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    basic: tuple[str, str] | None = None
    examples: int = 20
    phases: tuple[str, ...] = PHASES
    seed: int | None = None
    # Schemathesis `[parameters]` overrides, e.g. {"path.companyId": "..."}: pin the tenant a
    # credential may see, so that positive data is not refused with 403 everywhere.
    parameters: dict[str, Any] = field(default_factory=dict)
    # Only these operation ids (default: every operation served at the base URL).
    operations: tuple[str, ...] = ()


def options_from_args(args: argparse.Namespace) -> ProviderOptions:
    headers: dict[str, str] = {}
    for value in args.header:
        name, sep, setting = value.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"--header takes NAME:VALUE, got '{value}'")
        headers[name.strip()] = setting.strip()
    if args.bearer:
        headers["Authorization"] = f"Bearer {args.bearer}"
    basic = None
    if args.basic:
        user, sep, password = args.basic.partition(":")
        if not sep:
            raise ValueError(f"--basic takes USER:PASSWORD, got '{args.basic}'")
        basic = (user, password)
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    unknown = [p for p in phases if p not in PHASES]
    if unknown or not phases:
        raise ValueError(f"--phases takes a comma-separated list of {', '.join(PHASES)}; got '{args.phases}'")
    if args.examples < 1:
        raise ValueError("--examples must be at least 1")
    parameters: dict[str, Any] = {}
    for value in getattr(args, "parameter", None) or []:
        name, sep, setting = value.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--parameter takes NAME=VALUE (e.g. path.companyId=...), got '{value}'")
        parameters[name.strip()] = setting
    return ProviderOptions(api=args.api, base_url=args.base_url.rstrip("/"), headers=headers, basic=basic,
                           examples=args.examples, phases=phases, seed=args.seed, parameters=parameters,
                           operations=tuple(getattr(args, "operation", None) or ()))


def run_cli(args: argparse.Namespace) -> int:
    options = options_from_args(args)
    _to_stderr(f"verify-provider: contracts/{options.api}.yaml against {options.base_url} "
             f"({', '.join(options.phases)}; {options.examples} examples per operation)")
    report = verify_provider(options, progress=_to_stderr)
    print(report.render())
    if args.junit:
        report.write_junit(args.junit)
    return 0 if report.passed else 1


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def verify_provider(options: ProviderOptions, *, progress: Callable[[str], None] | None = None) -> ProviderReport:
    """Run Schemathesis with our contract against `options.base_url` and collect what it found."""
    import schemathesis
    from schemathesis.engine import from_schema

    contract = load_contract(options.api)
    document, elsewhere = schemathesis_document(contract)
    config = schemathesis_config(options)
    schema = schemathesis.openapi.from_dict(document, config=config)
    if elsewhere:
        schema = schema.exclude(operation_id=sorted(elsewhere))
    if options.operations:
        schema = schema.include(operation_id=list(options.operations))
    builder = ReportBuilder(api=options.api, base_url=options.base_url, seed=config.seed,
                            phases=options.phases, elsewhere=elsewhere, progress=progress)
    problem = unreachable(options.base_url)
    if problem is not None:
        # Otherwise every generated case would end in its own connection error.
        builder.fail_to_start(f"cannot reach {options.base_url}: {problem}")
        return builder.report()
    for event in from_schema(schema).execute():
        builder.handle(event)
    return builder.report()


def unreachable(base_url: str) -> str | None:
    """Why nothing answers at `base_url`, or None when something does (any HTTP status will do)."""
    import httpx

    try:
        httpx.get(base_url, timeout=10, verify=False)  # a TLS problem shows in the run itself, with details
    except httpx.TransportError as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return None


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
