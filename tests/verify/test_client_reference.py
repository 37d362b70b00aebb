"""The reference clients in examples/: every good one passes, every planted bug is caught and shrunk.

Each run forks the client function (no interpreter start-up), with a fixed seed, so the search is
reproducible and quick; the same clients run as commands in test_client_cli.py.
"""

from __future__ import annotations

import pytest
from clientkit import client

from mocks.verify.client import verify_function

GOOD = ["istockist", "konducter", "plggr", "pingnetwork", "lagerkoll"]

# (api, planted bug, the properties that may catch it, a seed that finds it quickly)
BUGGY = [
    ("istockist", "ignores-retry-after", {"waits-as-told"}, 3),
    ("istockist", "new-key-per-retry", {"idempotency-key-kept"}, 3),
    ("istockist", "treats-402-as-success", {"truthful-exit"}, 2),
    ("istockist", "retries-forever", {"bounded-retries", "waits-as-told", "finishes-in-time"}, 3),
    ("istockist", "malformed-body-after-retry", {"conforms-to-contract"}, 3),
    ("konducter", "retries-create-blindly", {"no-duplicate-effects"}, 3),
    ("plggr", "never-refreshes-token", {"reauthenticates"}, 3),
    ("lagerkoll", "never-refreshes-token", {"reauthenticates"}, 5),
    ("pingnetwork", "no-backoff", {"bounded-retries"}, 3),
    ("pingnetwork", "gives-up-at-once", {"survives-temporary-faults"}, 3),
]


@pytest.mark.parametrize("api", GOOD)
def test_good_client_passes(api, tmp_path):
    # the coverage phase tries every declared fault variant first; a few random combinations follow
    outcome = verify_function(api, client(api), examples=3, seed=11, timeout=15, scenario_dir=tmp_path)
    assert outcome.error is None
    assert outcome.failure is None, outcome.failure and "\n".join(map(str, outcome.failure.violations))
    assert outcome.runs >= 5
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("api", "bug", "caught_by", "seed"), BUGGY, ids=[f"{a}-{b}" for a, b, *_ in BUGGY])
def test_planted_bug_is_caught_with_a_small_schedule(api, bug, caught_by, seed, tmp_path):
    outcome = verify_function(api, client(api, bug), examples=40, seed=seed, timeout=10, scenario_dir=tmp_path,
                              shrink_seconds=10)
    assert outcome.failure is not None, f"{api} --bug {bug} was not caught in {outcome.runs} runs"
    broken = {v.property for v in outcome.failure.violations}
    assert broken & caught_by, f"caught, but by {broken}"
    assert len(outcome.failure.run.schedule) <= 3
    assert outcome.scenario is not None and outcome.scenario.exists()
