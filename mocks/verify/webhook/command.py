"""`mocks verify-webhook-handler`: does a client's webhook handler survive what senders really do?

Events shaped as the contract's webhooks (see `events`) are POSTed to the handler along
Hypothesis-generated delivery schedules (see `schedule`): retries, duplicates, events out
of order and deliveries with bad signatures. After every delivery three properties are checked:

- acknowledges every good delivery with 2xx (duplicates, retries and late events included);
- rejects every bad signature with 4xx, and never applies such a delivery;
- applies each event exactly once, observed through the handler's state endpoint.

The state endpoint (`--state-url`) is the contract between the two: `GET` answers
`200 {"applied": [ENTRY, ...]}`, one entry per event the handler applied, in application order,
where ENTRY is the event id (Konducter: `eventId`, also sent as X-Konducter-Event-Id) or the
delivered JSON body (Konducter: matched by its `eventId`; Lagerkoll, whose callbacks carry no id:
the callback payload, matched as a JSON value). It must reflect a delivery by the time the
delivery is acknowledged. Entries naming events this run did not send are ignored, so the
handler is never reset: every schedule uses fresh event ids. Without --state-url only the
acknowledgements are checked.

A failing schedule is shrunk by Hypothesis to a minimal one and printed in plain words, with a
curl command per delivery to replay it by hand.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import httpx

from mocks.fixtures import load_fixtures
from mocks.registry import load_contract
from mocks.verify.report import Progress, finish, no_progress, progress_to
from mocks.verify.webhook.events import EventSource
from mocks.verify.webhook.options import HandlerOptions
from mocks.verify.webhook.report import ACKNOWLEDGES, ONCE, REJECTS, HandlerReport
from mocks.verify.webhook.runner import DeliveryRunner, StateError, applied_entries, explore

__all__ = ["ACKNOWLEDGES", "ONCE", "REJECTS", "HandlerOptions", "HandlerReport", "run_cli", "verify_webhook_handler"]


def run_cli(args: argparse.Namespace) -> int:
    if args.events < 1 or args.examples < 1:
        raise ValueError("--events and --examples must be at least 1")
    options = HandlerOptions(api=args.api, url=args.url, state_url=args.state_url, secret=args.secret,
                             events=args.events, examples=args.examples, seed=args.seed)
    report = verify_webhook_handler(options, progress=progress_to(sys.stderr, quiet=args.quiet))
    return finish(report, junit=args.junit)


def verify_webhook_handler(options: HandlerOptions, *, progress: Progress = no_progress) -> HandlerReport:
    source = EventSource(load_contract(options.api), load_fixtures(options.api), options.secret)
    seed = options.seed if options.seed is not None else random.SystemRandom().getrandbits(32)
    report = HandlerReport(options, seed, source.signed, source.signature_header)
    if options.secret is not None and not source.signed:
        report.notes.append(f"{options.api} webhooks are not signed (the contract declares no signature): "
                            "--secret is not used")
    started = time.perf_counter()
    with httpx.Client(timeout=options.timeout) as client:
        report.error = preflight(client, options)
        if report.error is None:
            explore(DeliveryRunner(options, source, client, report, progress), report)
    report.running_time = time.perf_counter() - started
    return report


def preflight(client: httpx.Client, options: HandlerOptions) -> str | None:
    """Why the run cannot start, or None: the handler answers, the state endpoint keeps the contract."""
    try:
        client.get(options.url)  # any answer will do, 405 included
    except httpx.TransportError as exc:
        return f"cannot reach the handler at {options.url}: {type(exc).__name__}: {exc}"
    if options.state_url:
        try:
            applied_entries(client, options.state_url)
        except StateError as exc:
            return str(exc)
    return None
