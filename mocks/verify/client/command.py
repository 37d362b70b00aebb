"""`mocks verify-client API -- COMMAND ...`: does a client survive what the real API does to it?

For each fault schedule Hypothesis draws from the contract, the client runs against a fresh
sandbox on a real port; properties over the journal, the final state, its exit status and its
time decide. The first failure is shrunk to a minimal schedule, explained in plain words and
written as a scenario file. `verify_function` does the same for a Python function (pytest).

Exit status: 0 every property held, 1 a property broke, 2 the verification could not run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from mocks.verify.client.expectations import Expectation, load_expectations, of_callables
from mocks.verify.client.explore import SHRINK_SECONDS, Exploration, Finished, explore
from mocks.verify.client.facts import ApiFacts, Facts, FactSet
from mocks.verify.client.properties import runaway
from mocks.verify.client.report import ClientProgress, ClientReport, explain
from mocks.verify.client.runner import CommandLauncher, FunctionLauncher, Launcher, SandboxRunner
from mocks.verify.client.scenario import write_scenario
from mocks.verify.report import finish


def run_cli(args: argparse.Namespace) -> int:
    command = list(args.client_command)
    if not command:
        print("mocks verify-client: give the client to run after --, e.g. "
              "mocks verify-client istockist -- python my_client.py", file=sys.stderr)
        return 2
    if args.examples < 1 or args.timeout <= 0:
        print("mocks verify-client: --examples and --timeout must be positive", file=sys.stderr)
        return 2
    try:
        expectations = load_expectations(args.expect, args.api) if args.expect else []
    except ValueError as exc:
        print(f"mocks verify-client: --expect: {exc}", file=sys.stderr)
        return 2
    progress = ClientProgress(sys.stdout, quiet=args.quiet, summary=False)
    outcome = verify(args.api, CommandLauncher(command), examples=args.examples, seed=args.seed,
                     timeout=args.timeout, scenario_dir=args.scenario_dir, handlers=[progress],
                     expectations=expectations)
    status = finish(ClientReport(outcome), junit=args.junit)
    return 2 if outcome.error else status  # 2: the verification could not run


def verify(api: str | Sequence[str], launcher: Launcher, *, examples: int = 25, seed: int | None = None,
           timeout: float = 30.0, scenario_dir: str | Path | None = ".", handlers: Sequence[Callable[[Any], None]] = (),
           shrink_seconds: float = SHRINK_SECONDS, max_faults: int = 3,
           expectations: Sequence[Expectation] = ()) -> Exploration:
    """Verify one client of `api` (or of several APIs, served on one clock); handlers receive the events."""

    def emit(event: Any) -> None:
        if isinstance(event, Finished):
            return  # sent below, once the scenario file is written
        for handler in handlers:
            handler(event)

    with SandboxRunner(api, launcher, timeout, runaway=runaway) as runner:
        facts: Facts = (ApiFacts.of(runner.api) if len(runner.names) == 1
                        else FactSet({name: ApiFacts.of(each) for name, each in runner.apis.items()}))
        outcome = explore(runner, facts, client=launcher.describe(), examples=examples, seed=seed, emit=emit,
                          shrink_seconds=shrink_seconds, max_faults=max_faults, expectations=expectations)
        if outcome.failure is not None and scenario_dir is not None:
            outcome.scenario = write_scenario(outcome, scenario_dir)
    for handler in handlers:
        handler(Finished(outcome))
    return outcome


def verify_function(api: str | Sequence[str], client: Callable[[Any, Any], Any], *, examples: int = 20,
                    seed: int | None = 0, timeout: float = 10.0, scenario_dir: str | Path | None = None,
                    stream: TextIO | None = None, shrink_seconds: float = 30.0,
                    expect: Callable[[dict[str, Any]], Any] | Sequence[Callable[[dict[str, Any]], Any]] = ()) -> Exploration:
    """Verify a Python client function `client(base_url, credentials)` (the pytest helper's engine).

    Returning counts as exit status 0, raising as 1. The function runs in a forked process with
    the MOCKS_* variables in its environment, so it may read MOCKS_LOCAL_URL and the like too.
    For several APIs, `base_url` and `credentials` are dicts by API name. `expect`: callables
    over what a run left (see `mocks.verify.client.expectations`), checked after every run that returns.
    """
    handlers = [ClientProgress(stream)] if stream is not None else []
    return verify(api, FunctionLauncher(client), examples=examples, seed=seed, timeout=timeout,
                  scenario_dir=scenario_dir, handlers=handlers, shrink_seconds=shrink_seconds,
                  expectations=of_callables([expect] if callable(expect) else list(expect)))


def failure_text(outcome: Exploration) -> str:
    """What a test failure shows: the explained minimal failure and how to replay it."""
    if outcome.error:
        return f"verify-client {outcome.api}: {outcome.error}"
    assert outcome.failure is not None
    text = (f"verify-client {outcome.api}: {outcome.failure.violations[0].title} "
            f"(seed {outcome.seed}, {outcome.runs} runs)\n\n" + explain(outcome.failure, outcome.facts, outcome.original))
    if outcome.scenario is not None:
        text += f"\n\nScenario: {outcome.scenario}  (mocks serve {outcome.api} --scenario {outcome.scenario})"
    return text
