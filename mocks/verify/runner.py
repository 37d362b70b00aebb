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
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, Self

from mocks.verify.environment import client_environment, credentials_of
from mocks.verify.schedules import Schedule
from mocks.verify.traffic import Call, calls_of

POLL_SECONDS = 0.02
OUTPUT_CHARS = 4000


@dataclass(slots=True)
class Run:
    """One run of the client under one schedule."""

    schedule: Schedule
    calls: list[Call]
    exit_code: int | None  # None when the verifier had to stop the client
    elapsed: float  # wall-clock seconds
    budget: float
    timed_out: bool = False
    stopped: str | None = None  # why the verifier stopped the client early
    before: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    after: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    output: str = ""
    fired: list[dict[str, Any]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.exit_code is not None


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
        function(env["MOCKS_BASE_URL"], json.loads(env.get("MOCKS_CREDENTIALS") or "{}"))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - any failure of the client is its exit status
        traceback.print_exc()
        code = 1
    stream.flush()
    os._exit(code)


class Runner:
    """One sandbox for one API, reused by every run."""

    def __init__(self, api_name: str, launcher: Launcher, timeout: float,
                 runaway: Callable[[list[Call]], str | None] | None = None) -> None:
        self.api_name = api_name
        self.launcher = launcher
        self.timeout = timeout
        self.runaway = runaway
        self.sandbox = None
        self.api = None
        self.urls: dict[str, str] = {}
        self.env: dict[str, str] = {}
        self._limits: list[tuple[Any, int, float, bool]] = []

    def __enter__(self) -> Self:
        from mocks.registry import load_contract
        from mocks.server import Sandbox

        listeners = load_contract(self.api_name).listeners
        ports = {self.api_name: 0, **{f"{self.api_name}.{name}": 0 for name in listeners}}
        self.sandbox = Sandbox.create([self.api_name], ports=ports).start()
        self.api = self.sandbox.apis[self.api_name]
        self.urls = {name: url.replace("//localhost:", "//127.0.0.1:") for name, url in self.api.base_urls.items()}
        self.env = client_environment(self.api, self.urls, self.timeout)
        self._limits = [(p, p.limit, p.window, p.enabled) for p in self.api.limiter.policies]
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
        api = self.api
        api.reset()
        for policy, limit, window, enabled in self._limits:
            policy.limit, policy.window, policy.enabled = limit, window, enabled
        for spec in schedule.limits():
            api.configure_limit(spec["rate"])
        if api.limiter.policies:
            api.configure_limit(None)  # recompute each operation's active policies
        for spec in schedule.specs():
            api.add_fault(spec)

    def run(self, schedule: Schedule) -> Run:
        api = self.api
        self.prepare(schedule)
        before = api.store.snapshot()
        started = time.monotonic()
        process = self.launcher.start(self.env)
        timed_out, stopped, checked = False, None, started
        while (code := process.poll()) is None:
            now = time.monotonic()
            if now - started > self.timeout:
                timed_out = True
                break
            if self.runaway is not None and now - checked > 0.1:
                checked = now
                stopped = self.runaway(calls_of(api.journal.entries()))
                if stopped:
                    break
            time.sleep(POLL_SECONDS)
        elapsed = time.monotonic() - started
        if code is None:
            process.kill()
            _settle(api)
        return Run(schedule=schedule, calls=calls_of(api.journal.entries()), exit_code=code, elapsed=elapsed,
                   budget=self.timeout, timed_out=timed_out, stopped=stopped, before=before,
                   after=api.store.snapshot(), output=process.output(), fired=api.faults.list())


def _settle(api, quiet: float = 0.3, limit: float = 2.0) -> None:
    """After killing a client, wait until requests it left in flight have been journaled."""
    deadline = time.monotonic() + limit
    count = -1
    while time.monotonic() < deadline:
        current = len(api.journal.entries())
        if current == count:
            return
        count = current
        threading.Event().wait(quiet)
