"""Run a client once per schedule against a real sandbox port, and collect what happened.

For each run: reset and seed the API in-process (cheap: no new app, no new port), install the
schedule through the engine, start the client with the MOCKS_* environment, enforce the time
budget, then take the journal, the final state and the exit status.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, Self

from mocks.verify.client.environment import client_environment, credentials_of, several_environment
from mocks.verify.client.isolation import RunGate
from mocks.verify.client.schedules import Schedule
from mocks.verify.client.traffic import Call, calls_of

POLL_SECONDS = 0.02
OUTPUT_CHARS = 4000
HANG_MARGIN = 1.0  # silence beyond the longest wait the client was asked for, before a shrink step calls it hung


Snapshot = dict[str, list[dict[str, Any]]]


@dataclass(slots=True)
class Run:
    """One run of the client under one schedule: the whole run, or one API's part of it (`view`)."""

    schedule: Schedule
    calls: list[Call]
    exit_code: int | None  # None when the verifier had to stop the client
    elapsed: float  # wall-clock seconds
    budget: float
    timed_out: bool = False
    stopped: str | None = None  # why the verifier stopped a runaway client
    before: dict[str, Any] = field(default_factory=dict)  # a view: Snapshot; the whole run: API -> Snapshot
    after: dict[str, Any] = field(default_factory=dict)
    output: str = ""
    fired: list[dict[str, Any]] = field(default_factory=list)  # one state per scheduled fault, in order
    apis: tuple[str, ...] = ()  # the whole run of these APIs; () for a view of one API
    decided: str | None = None  # stopped early: the property it is judged on already broke
    hung: str | None = None  # cut as a hang (shrink steps only): judged as timed out without waiting it out

    @property
    def finished(self) -> bool:
        return self.exit_code is not None

    def view(self, api: str) -> Run:
        """The part of this run one API saw: its calls, state, faults (and every shared fact)."""
        if not self.apis:
            return self
        faults = [(f, state) for f, state in zip(self.schedule.faults, self.fired)
                  if (f.api or self.apis[0]) == api]
        schedule = Schedule(tuple(f for f, _ in faults), self.schedule.throttle)
        return replace(self, schedule=schedule, calls=[c for c in self.calls if c.api == api],
                       before=self.before.get(api, {}), after=self.after.get(api, {}),
                       fired=[state for _, state in faults], apis=())


class Process(Protocol):
    def poll(self) -> int | None: ...
    def kill(self) -> None: ...
    def output(self) -> str: ...


class Launcher(Protocol):
    def describe(self) -> str: ...
    def start(self, env: dict[str, str]) -> Process: ...


class _Output:
    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by text(), once the client is done

    def text(self) -> str:
        self.file.seek(0)
        data = self.file.read()
        self.file.close()
        return data[-OUTPUT_CHARS:].decode("utf-8", "replace")


class CommandLauncher:
    """Any program, in any language: COMMAND ... with the MOCKS_* variables in its environment."""

    def __init__(self, command: Sequence[str], cwd: str | None = None) -> None:
        if not command:
            raise ValueError("no client command given (put it after --)")
        self.command = list(command)
        self.cwd = cwd

    def describe(self) -> str:
        return " ".join(self.command)

    def start(self, env: dict[str, str]) -> Process:
        return _Subprocess(self.command, {**os.environ, **env}, self.cwd)


class _Subprocess:
    def __init__(self, command: list[str], env: dict[str, str], cwd: str | None) -> None:
        self._output = _Output()
        try:
            self._process = subprocess.Popen(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                             stdout=self._output.file, stderr=subprocess.STDOUT,
                                             start_new_session=True)
        except OSError as exc:
            raise ValueError(f"cannot start the client {command[0]!r}: {exc.strerror}") from None

    def poll(self) -> int | None:
        return self._process.poll()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signal.SIGKILL)  # the client and anything it started
        self._process.wait()

    def output(self) -> str:
        return self._output.text()


class FunctionLauncher:
    """A Python function `client(base_url, credentials)`: returning is exit 0, raising is exit 1.

    It runs in a forked child process, so a client that never stops can be stopped.
    """

    def __init__(self, function: Callable[[str, dict[str, Any]], Any]) -> None:
        self.function = function

    def describe(self) -> str:
        return f"{getattr(self.function, '__module__', '?')}.{getattr(self.function, '__qualname__', self.function)}"

    def start(self, env: dict[str, str]) -> Process:
        return _Forked(self.function, env)


class _Forked:
    def __init__(self, function: Callable, env: dict[str, str]) -> None:
        self._output = _Output()
        context = multiprocessing.get_context("fork")
        self._process = context.Process(target=_child, args=(function, env, self._output.file.fileno()),
                                        daemon=True)
        self._process.start()

    def poll(self) -> int | None:
        return self._process.exitcode

    def kill(self) -> None:
        self._process.kill()
        self._process.join()

    def output(self) -> str:
        self._process.join(timeout=1)
        return self._output.text()


def _child(function: Callable, env: dict[str, str], fd: int) -> None:
    os.environ.update(env)
    stream = os.fdopen(os.dup(fd), "w", buffering=1, encoding="utf-8", errors="replace")
    sys.stdout = sys.stderr = stream
    code = 0
    try:
        function(*_arguments(env))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - any failure of the client is its exit status
        traceback.print_exc()
        code = 1
    stream.flush()
    os._exit(code)


def _arguments(env: dict[str, str]) -> tuple[Any, Any]:
    """`(base_url, credentials)`; for a client of several APIs, each a dict by API name."""
    if "MOCKS_APIS" not in env:
        return env["MOCKS_BASE_URL"], json.loads(env.get("MOCKS_CREDENTIALS") or "{}")
    names = env["MOCKS_APIS"].split(",")
    prefix = {name: f"MOCKS_{name.upper()}_" for name in names}
    return ({name: env[prefix[name] + "BASE_URL"] for name in names},
            {name: json.loads(env.get(prefix[name] + "CREDENTIALS") or "{}") for name in names})


Watch = Callable[[Run], str | None]  # looks at a run in progress: a reason to stop it now, or None


class SandboxRunner:
    """One sandbox serving every API the client talks to (one clock), reused by every run."""

    def __init__(self, api_names: str | Sequence[str], launcher: Launcher, timeout: float,
                 runaway: Callable[[list[Call]], str | None] | None = None) -> None:
        self.names = [api_names] if isinstance(api_names, str) else list(dict.fromkeys(api_names))
        self.launcher = launcher
        self.timeout = timeout
        self.runaway = runaway
        self.sandbox = None
        self.apis: dict[str, Any] = {}
        self.gates: dict[str, RunGate] = {}
        self.urls: dict[str, str] = {}
        self.env: dict[str, str] = {}
        self._limits: list[tuple[Any, int, float, bool]] = []
        self.waited_out = 0  # runs that ran to the whole time budget
        self.cut_hung = 0  # runs cut short as a hang (`run(..., cut_hangs=True)`)

    @property
    def api(self):
        """The first API named (the only one, for a client of one API)."""
        return self.apis[self.names[0]]

    def __enter__(self) -> Self:
        from mocks.registry import load_contract
        from mocks.server import Sandbox

        ports = {}
        for name in self.names:
            ports[name] = 0
            ports.update({f"{name}.{listener}": 0 for listener in load_contract(name).listeners})
        self.sandbox = Sandbox.create(self.names, ports=ports)
        self.apis = dict(self.sandbox.apis)
        self.gates = {name: RunGate(api) for name, api in self.apis.items()}  # before serving: see isolation
        self.sandbox.start()
        urls = {name: {listener: url.replace("//localhost:", "//127.0.0.1:")
                       for listener, url in api.base_urls.items()} for name, api in self.apis.items()}
        if len(self.names) == 1:
            self.urls = urls[self.names[0]]
            self.env = client_environment(self.api, self.urls, self.timeout)
        else:
            self.urls = {f"{name} {listener}": url for name, by in urls.items() for listener, url in by.items()}
            self.env = several_environment(list(self.apis.values()), urls, self.timeout)
        self._limits = [(p, p.limit, p.window, p.enabled) for api in self.apis.values()
                        for p in api.limiter.policies]
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.sandbox is not None:
            self.sandbox.shutdown()
            self.sandbox = None

    @property
    def credentials(self) -> dict[str, Any]:
        return credentials_of(self.api)

    def prepare(self, schedule: Schedule) -> None:
        """Fresh, seeded state with the schedule's faults and limits installed."""
        for policy, limit, window, enabled in self._limits:
            policy.limit, policy.window, policy.enabled = limit, window, enabled
        for name, api in self.apis.items():
            self.gates[name].drain()  # a request of the last run still running would act on the new state
            api.reset()
            for spec in schedule.limits():
                api.configure_limit(spec["rate"])
            if api.limiter.policies:
                api.configure_limit(None)  # recompute each operation's active policies
        for fault in schedule.faults:
            self.apis[fault.api or self.names[0]].add_fault(fault.spec())

    def run(self, schedule: Schedule, watch: Watch | None = None, cut_hangs: bool = False) -> Run:
        """Run the client once; `watch` may stop it early once the run's outcome is known.

        `cut_hangs` (shrink steps only, never a judged run): a client silent for longer than any wait it
        was asked for (`hang_wait`) is taken to hang, and the run ends then as timed out, `hung` set."""
        self.prepare(schedule)
        before = {name: api.store.snapshot() for name, api in self.apis.items()}
        for gate in self.gates.values():
            gate.open()
        started = time.monotonic()
        process = self.launcher.start(self.env)
        timed_out, stopped, decided, hung, checked = False, None, None, None, started
        while (code := process.poll()) is None:
            now = time.monotonic()
            if now - started > self.timeout:
                timed_out = True
                self.waited_out += 1
                break
            if now - checked > 0.1 and (self.runaway is not None or watch is not None or cut_hangs):
                checked = now
                calls = self._calls()
                stopped = self.runaway(calls) if self.runaway is not None else None
                if not stopped and watch is not None:
                    decided = watch(Run(schedule, calls, None, now - started, self.timeout, before=before,
                                        fired=self._fired(schedule), apis=tuple(self.names)))
                if not stopped and not decided and cut_hangs:
                    hung = self._hung(schedule, calls, now)
                    timed_out = hung is not None
                if stopped or decided or hung:
                    break
            time.sleep(POLL_SECONDS)
        elapsed = time.monotonic() - started
        if code is None:
            process.kill()
        for gate in self.gates.values():  # let what the client sent before it ended land, then shut the door
            gate.drain()
            gate.close()
        return Run(schedule=schedule, calls=self._calls(), exit_code=code, elapsed=elapsed, budget=self.timeout,
                   timed_out=timed_out, stopped=stopped, before=before,
                   after={name: api.store.snapshot() for name, api in self.apis.items()},
                   output=process.output(), fired=self._fired(schedule), apis=tuple(self.names), decided=decided,
                   hung=hung)

    def _hung(self, schedule: Schedule, calls: list[Call], now: float) -> str | None:
        """Why the client is taken to hang: silent, nothing in flight, longer than any wait it was asked for."""
        marks = [gate.idle_since() for gate in self.gates.values()]
        if None in marks or not any(marks):  # a request in flight, or none sent yet
            return None
        wait, silent = hang_wait(schedule, calls, self.timeout), now - max(m for m in marks if m is not None)
        if wait >= self.timeout or silent <= wait:
            return None
        self.cut_hung += 1
        return f"silent for {silent:.1f} s with nothing in flight, longer than any wait it was asked for"

    def _calls(self) -> list[Call]:
        calls = [call for name, api in self.apis.items() for call in calls_of(api.journal.entries(), name)]
        return sorted(calls, key=lambda c: (c.arrived, c.api, c.seq)) if len(self.apis) > 1 else calls

    def _fired(self, schedule: Schedule) -> list[dict[str, Any]]:
        """The state of each scheduled fault, in the schedule's order (faults are installed in that order)."""
        installed = {name: iter(api.faults.list()) for name, api in self.apis.items()}
        return [{**next(installed[fault.api or self.names[0]], {}), "api": fault.api or self.names[0]}
                for fault in schedule.faults]


def hang_wait(schedule: Schedule, calls: Sequence[Call], timeout: float) -> float:
    """The longest silence a client that still works may keep: the largest wait the schedule or an answer
    asked of it (Retry-After, latency) plus a margin, bounded by the time budget."""
    waits = [float(f.retry_after or 0) for f in schedule.faults] + [f.latency for f in schedule.faults]
    for call in calls:
        told = call.response_headers.get("retry-after", "0")
        waits.append(float(told) if told.replace(".", "", 1).isdigit() else timeout)  # a date: no guess
    return min(timeout, max(waits, default=0.0) + HANG_MARGIN)
