"""The `mocks` command: a thin layer over the sandbox, scenarios and verifiers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mocks.delivery_worker import LEASE
from mocks.registry import API_NAMES
from mocks.urls import admin_url


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    words = list(sys.argv[1:] if argv is None else argv)
    tail: list[str] | None = None
    if "--" in words:  # everything after the first `--` is the client's command, never our options
        cut = words.index("--")
        words, tail = words[:cut], words[cut + 1:]
    args = parser.parse_args(words)
    if tail is not None:
        args.client_command = tail
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except (ValueError, KeyError, OSError) as exc:
        print(f"mocks: error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mocks", description="Stateful mock servers and client verification "
                                                                "for Konducter, Lagerkoll, iStockist, Ping Network and Plggr.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve mock APIs (default: all five)")
    serve.add_argument("apis", nargs="*", metavar="API", help=f"any of: {', '.join(API_NAMES)}")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1); any bind beyond loopback (e.g. '' or 0.0.0.0) "
                            "needs --admin-token or --no-admin")
    serve.add_argument("--port", action="append", default=[], metavar="API[.LISTENER]=N",
                       help="override a port, e.g. --port lagerkoll=9102 --port konducter.local=9288")
    serve.add_argument("--store", default="memory", metavar="memory|URL",
                       help="state store: memory (default) or redis://HOST:PORT/DB (also rediss://, valkey://): "
                            "every process on one Redis and --namespace is one sandbox")
    serve.add_argument("--namespace", default="mocks",
                       help="the sandbox's name in a shared store (default mocks); ignored by the memory store")
    _store_options(serve)
    serve.add_argument("--workers", type=_positive(int), default=1, metavar="N",
                       help="processes serving the same ports (default 1); above 1 needs a shared store "
                            "(--store redis://...)")
    serve.add_argument("--delivery-lease", type=_positive(float, at_most=86400), default=LEASE, metavar="SECONDS",
                       help=f"how long one webhook delivery attempt may hold its lease (default {LEASE:g}, at most 86400): "
                            "it gives up then, and another process may take the delivery over")
    serve.add_argument("--limit", action="append", default=[], metavar="API[.POLICY]=RATE",
                       help="change a rate limit, e.g. --limit lagerkoll=5/min --limit plggr.concurrent-requests=2")
    serve.add_argument("--scenario", action="append", default=[], metavar="NAME",
                       help="load a QA scenario from fixtures/scenarios/ at start-up")
    serve.add_argument("--snapshot", action="append", default=[], metavar="FILE",
                       help="start an API from a snapshot taken with GET /__mock/snapshot (one per API)")
    serve.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve iStockist over HTTPS with this certificate")
    serve.add_argument("--no-admin", action="store_true", help="switch the /__mock/ admin API off")
    serve.add_argument("--admin-token", help="require 'Authorization: Bearer TOKEN' on the admin API")
    _connection_options(serve)
    serve.set_defaults(run=_serve)

    scenarios = commands.add_parser("scenarios", help="list the QA scenarios, or check that they behave as described")
    scenarios.add_argument("--api", help="only this API's scenarios")
    scenarios.add_argument("--check", nargs="*", metavar="NAME",
                           help="replay the scenarios' steps in-process and report each (no names: all)")
    scenarios.set_defaults(run=_scenarios)

    client = commands.add_parser(
        "verify-client", help="check that a client survives generated fault schedules",
        description="Run COMMAND once per generated fault schedule against a real sandbox port, then check what "
                    "it did (journal) and left behind (state). Failures are shrunk and written as scenarios.")
    client.add_argument("api", metavar="API", nargs="+", choices=API_NAMES,
                        help="the API the client talks to (name several for a client of several APIs)")
    client.add_argument("--examples", type=int, default=25, help="fault schedules to try (default 25)")
    client.add_argument("--expect", metavar="FILE",
                        help="your postconditions (JMESPath over the final state and the journal), checked after "
                             "every run that exits 0")
    client.add_argument("--seed", type=int, help="random seed, for a reproducible run")
    client.add_argument("--timeout", type=float, default=30.0, help="seconds one run of COMMAND may take (default 30)")
    client.add_argument("--junit", metavar="FILE", help="write JUnit XML for CI")
    client.add_argument("--scenario-dir", metavar="DIR", default=".",
                        help="where to write the scenario file of a failure (default: current directory)")
    client.add_argument("--quiet", action="store_true", help="no progress lines")
    client.add_argument("client_command", nargs="*", metavar="-- COMMAND ...",
                        help="the client to run, after --")
    client.set_defaults(run=_verify("client"))

    hook = commands.add_parser(
        "verify-webhook-handler", help="deliver duplicated, reordered and badly signed events to a webhook handler")
    hook.add_argument("api", metavar="API", choices=["konducter", "lagerkoll"])
    hook.add_argument("--url", required=True, help="the handler's URL")
    hook.add_argument("--state-url", help="URL where the handler reports the events it applied (see README)")
    hook.add_argument("--secret", help="signing secret the handler expects (default: the sandbox's)")
    hook.add_argument("--events", type=int, default=5, help="distinct events to send (default 5)")
    hook.add_argument("--examples", type=int, default=10, help="delivery schedules to try (default 10)")
    hook.add_argument("--seed", type=int, help="random seed, for a reproducible run")
    hook.add_argument("--junit", metavar="FILE", help="write JUnit XML for CI")
    hook.add_argument("--quiet", action="store_true", help="no progress lines")
    hook.set_defaults(run=_verify("webhook"))

    provider = commands.add_parser(
        "verify-provider", help="check a real or staging provider against our contract (Schemathesis)")
    provider.add_argument("api", metavar="API", choices=API_NAMES)
    provider.add_argument("--base-url", required=True, help="the provider's base URL")
    provider.add_argument("--header", action="append", default=[], metavar="NAME:VALUE",
                          help="a header on every request (credentials), repeatable")
    provider.add_argument("--basic", metavar="USER:PASSWORD", help="HTTP Basic credentials")
    provider.add_argument("--bearer", metavar="TOKEN", help="a bearer token")
    provider.add_argument("--examples", type=int, default=20, help="examples per operation (default 20)")
    provider.add_argument("--phases", default="examples,coverage,fuzzing,stateful",
                          help="Schemathesis phases (default: all)")
    provider.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE",
                          help="pin a parameter, e.g. path.companyId=1a00… (the tenant the credentials may see)")
    provider.add_argument("--operation", action="append", default=[], metavar="OPERATION_ID",
                          help="only this operation (repeatable)")
    provider.add_argument("--seed", type=int, help="random seed, for a reproducible run")
    provider.add_argument("--junit", metavar="FILE", help="write JUnit XML for CI")
    provider.add_argument("--quiet", action="store_true", help="no progress lines")
    provider.set_defaults(run=_verify("provider"))
    return parser


def _store_options(serve: argparse.ArgumentParser) -> None:
    from mocks.state import DEFAULT_CONCURRENCY_LEASE

    serve.add_argument("--concurrency-lease", type=_positive(float, at_most=3600), default=DEFAULT_CONCURRENCY_LEASE,
                       metavar="SECONDS", help="a shared store frees a concurrency slot this long after the process "
                                               f"holding it died (default {DEFAULT_CONCURRENCY_LEASE:g}, at most 3600)")


def _connection_options(serve: argparse.ArgumentParser) -> None:
    from mocks.connection_limits import ConnectionLimits

    default = ConnectionLimits()
    group = serve.add_argument_group("slow and greedy clients (per listener)")
    group.add_argument("--header-timeout", type=_positive(float), default=default.header_timeout, metavar="SECONDS",
                       help=f"close a connection whose request headers take longer (default {default.header_timeout:g})")
    group.add_argument("--body-timeout", type=_positive(float), default=default.body_timeout, metavar="SECONDS",
                       help=f"close a connection whose request body takes longer (default {default.body_timeout:g})")
    group.add_argument("--keep-alive", type=_positive(float), default=default.keep_alive, metavar="SECONDS",
                       help=f"close an idle kept-alive connection after this (default {default.keep_alive:g})")
    group.add_argument("--max-connections", type=_positive(int), default=default.max_connections, metavar="N",
                       help=f"open connections per listener; more are answered 503 (default {default.max_connections})")


def _positive(kind: type, *, at_most: float | None = None):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a {'whole ' if kind is int else ''}number") from None
        if at_most is not None and not 0 < value <= at_most:  # NaN is refused too
            raise argparse.ArgumentTypeError(f"'{text}' must be above 0 and at most {at_most:g}")
        if not 0 < value < 1e6:
            raise argparse.ArgumentTypeError(f"'{text}' must be above 0 and below 1000000")
        return value

    return parse


def _verify(module: str):
    def run(args: argparse.Namespace) -> int:
        import importlib

        return importlib.import_module(f"mocks.verify.{module}").run_cli(args)

    return run


def _pairs(values: list[str], flag: str) -> list[tuple[str, str]]:
    out = []
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not name or not setting:
            raise ValueError(f"{flag} takes NAME=VALUE, got '{value}'")
        out.append((name, setting))
    return out


def _serve(args: argparse.Namespace) -> int:
    from mocks.server import Sandbox

    names = args.apis or list(API_NAMES)
    unknown = [n for n in names if n not in API_NAMES]
    if unknown:
        raise ValueError(f"unknown API {', '.join(unknown)} (known: {', '.join(API_NAMES)})")
    ports = {}
    for name, port in _pairs(args.port, "--port"):
        if not port.isdigit() or int(port) > 65535:
            raise ValueError(f"--port {name}: '{port}' is not a port number (0-65535; 0 picks a free one)")
        api_name, _, listener = name.partition(".")
        if api_name not in names:
            raise ValueError(f"--port {name}: {api_name} is not being served (serving: {', '.join(names)})")
        if listener:
            from mocks.registry import load_contract

            known = list(load_contract(api_name).listeners)
            if listener not in known:
                raise ValueError(f"--port {name}: {api_name} has no listener '{listener}' (has: {', '.join(known)})")
        ports[name] = int(port)
    from mocks.state import check_store, store_url

    if args.workers > 1 and store_url(args.store) == "memory":
        raise ValueError(f"--workers {args.workers} needs a shared store: the memory store lives in one process "
                         "(add --store redis://HOST:PORT/DB)")
    check_store(args.store)  # a bad URL or a Redis that does not answer: exit 2 now, not 503s later
    sandbox = Sandbox.create(names, store=args.store, namespace=args.namespace,
                             concurrency_lease=args.concurrency_lease, host=args.host, ports=ports,
                             admin=not args.no_admin, admin_token=args.admin_token, limits=_limits(args),
                             delivery_lease=args.delivery_lease,
                             tls={"istockist": tuple(args.tls)} if args.tls and "istockist" in names else {})
    for target, rate in _pairs(args.limit, "--limit"):
        api_name, _, policy = target.partition(".")
        if api_name not in sandbox.apis:
            raise ValueError(f"--limit {target}: {api_name} is not being served")
        try:
            sandbox.apis[api_name].configure_limit(rate, policy or None)
        except KeyError:
            known = ", ".join(p.name for p in sandbox.apis[api_name].limiter.policies)
            raise ValueError(f"--limit {target}: {api_name} has no rate-limit policy '{policy}' (has: {known})") from None
    for api in sandbox.apis.values():
        api.limiter.keep_as_baseline()  # a reset or a scenario goes back to these limits
    for scenario in args.scenario:
        from mocks.scenarios import load_scenario
        from mocks.scenarios.apply import apply_scenario

        apply_scenario(load_scenario(scenario), sandbox.apis)
    if args.snapshot:
        from mocks.snapshot import restore_files

        restore_files(args.snapshot, sandbox.apis)
    sandbox.bind()
    if args.workers > 1:
        from mocks.workers import serve_with_workers

        return serve_with_workers(sandbox, store=args.store, namespace=args.namespace,
                                  concurrency_lease=args.concurrency_lease, count=args.workers,
                                  on_all_serving=lambda: print(describe(sandbox), flush=True))
    print(describe(sandbox), flush=True)
    sandbox.run()
    return 0


def _limits(args: argparse.Namespace):
    from mocks.connection_limits import ConnectionLimits

    return ConnectionLimits(header_timeout=args.header_timeout, body_timeout=args.body_timeout,
                            keep_alive=args.keep_alive, max_connections=args.max_connections)


def _scenarios(args: argparse.Namespace) -> int:
    import mocks.app  # noqa: F401  (registers every admin route: scenario steps call them)
    from mocks.scenarios import list_scenarios, load_scenario
    from mocks.scenarios.replay import check_scenario

    if args.check is None:
        problems: list[str] = []
        chosen = [s for s in list_scenarios(problems=problems) if not args.api or s.api == args.api]
        width = max((len(s.name) for s in chosen), default=0)
        for scenario in chosen:
            print(f"{scenario.name:<{width}}  {scenario.api:<11}  {scenario.summary}")
        for problem in problems:
            print(f"unreadable: {problem}", file=sys.stderr)
        print("\nLoad one with: mocks serve --scenario NAME, or POST /__mock/scenarios/NAME on the API's port.")
        return 1 if problems else 0
    chosen = [load_scenario(n) for n in args.check] if args.check else \
        [s for s in list_scenarios() if not args.api or s.api == args.api]
    failed = 0
    for scenario in chosen:
        outcomes = check_scenario(scenario)
        ok = all(o.passed for o in outcomes)
        failed += not ok
        print(f"{'PASS' if ok else 'FAIL'}  {scenario.name}: {scenario.summary}")
        for outcome in outcomes:
            print(f"    {'ok ' if outcome.passed else 'BAD'} step {outcome.index + 1}: {outcome.request}: {outcome.detail}")
    print(f"\n{len(chosen) - failed} passed, {failed} failed")
    return 1 if failed else 0


def describe(sandbox) -> str:
    lines = ["Serving (Ctrl-C to stop):", ""]
    width = max(len(f"{l.api.name} ({l.name})") for l in sandbox.listeners)
    for listener in sandbox.listeners:
        label = f"{listener.api.name} ({listener.name})"
        admin = "  admin: " + admin_url(listener.url) + "/__mock/info" \
            if listener.name == listener.api.primary_listener and sandbox.admin else ""
        lines.append(f"  {label:<{width}}  {listener.url}{admin}")
    lines += ["", "Sandbox credentials:"]
    for api in sandbox.apis.values():
        for credential in api.fixtures.credentials:
            shown = credential.schemes or credential.grant or {}
            values = ", ".join(f"{k}={v}" for k, v in shown.items())
            scopes = ", ".join(credential.principal.scopes)
            lines.append(f"  {api.name:<12} {credential.principal.id:<24} {values}  [scopes: {scopes}]")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
