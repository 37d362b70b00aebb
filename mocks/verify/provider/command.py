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

from mocks.registry import load_contract
from mocks.verify.provider.options import ProviderOptions, options_from_args
from mocks.verify.provider.report import ProviderReport, ReportBuilder
from mocks.verify.provider.schema import schemathesis_config, schemathesis_document
from mocks.verify.report import Progress, finish, no_progress, progress_to


def run_cli(args: argparse.Namespace) -> int:
    options = options_from_args(args)
    progress = progress_to(sys.stderr, quiet=args.quiet)
    progress(f"verify-provider: contracts/{options.api}.yaml against {options.base_url} "
             f"({', '.join(options.phases)}; {options.examples} examples per operation)")
    return finish(verify_provider(options, progress=progress), junit=args.junit)


def verify_provider(options: ProviderOptions, *, progress: Progress = no_progress) -> ProviderReport:
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
