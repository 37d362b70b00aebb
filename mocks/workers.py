"""`mocks serve --workers N`: N processes serve the listeners one parent bound; the parent supervises them.

The parent builds the sandbox once (seeding, --limit, --scenario and --snapshot all go to the shared
store a single time), binds every listening socket, and starts the workers with multiprocessing's
*spawn* context: each worker is a fresh interpreter that inherits only the listening sockets and one
pipe. Fork would copy the parent's Redis connection pool and any event-loop state into every child,
and two processes talking over one inherited Redis socket interleave each other's replies; a spawned
worker opens its own connections. A worker joins the sandbox like any other process on the same store
and namespace: it finds the seeding claimed and leaves the state alone.

The parent replaces a worker that dies (and says so on stderr). A worker that dies before it serves
counts as a failed start; after `START_ATTEMPTS` failed starts in a row (a Redis that refuses, a
certificate that does not load) the parent stops the rest and exits 1 rather than respawning forever.
SIGTERM or Ctrl-C on the parent stops every worker gracefully (SIGTERM each, SIGKILL after
`STOP_TIMEOUT`), then the parent exits 0. A worker whose parent is gone (killed outright) stops itself.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from socket import socket

from mocks.connection_limits import ConnectionLimits
from mocks.server import Sandbox

START_ATTEMPTS = 5  # failed starts in a row before the parent gives up
STOP_TIMEOUT = 10.0  # seconds a worker has to finish its requests after SIGTERM
_SPAWN = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class WorkerPlan:
    """What a worker needs to build its own copy of the sandbox (sent to it pickled)."""

    names: list[str]
    store: str
    namespace: str
    concurrency_lease: float
    host: str
    admin: bool
    admin_token: str | None
    tls: dict[str, tuple[str, str]]
    limits: ConnectionLimits
    delivery_lease: float

    @classmethod
    def of(cls, sandbox: Sandbox, store: str, namespace: str, concurrency_lease: float) -> WorkerPlan:
        return cls(list(sandbox.apis), store, namespace, concurrency_lease, sandbox.host, sandbox.admin,
                   sandbox.admin_token, dict(sandbox.tls), sandbox.limits, sandbox.delivery_lease)


def work(plan: WorkerPlan, sockets: list[socket], ready: Connection) -> None:
    """A worker's life: build the sandbox on the inherited sockets, tell the parent, serve until SIGTERM."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # already ignored since exec (see Supervisor._start); stays so
    try:
        sandbox = Sandbox.create(plan.names, store=plan.store, namespace=plan.namespace,
                                 concurrency_lease=plan.concurrency_lease, host=plan.host,
                                 admin=plan.admin, admin_token=plan.admin_token, tls=plan.tls, limits=plan.limits,
                                 delivery_lease=plan.delivery_lease)
        sandbox.bind(sockets)
    except Exception as exc:  # noqa: BLE001 - any failure to start is reported by the parent's rule
        print(f"mocks: worker {os.getpid()} could not start: {exc}", file=sys.stderr, flush=True)
        sys.exit(3)
    threading.Thread(target=_stop_when_orphaned, args=(os.getppid(),), name="mocks-orphan-watch", daemon=True).start()
    sandbox.run(stop_on=(signal.SIGTERM,), on_ready=lambda: ready.send(os.getpid()))


def _stop_when_orphaned(parent: int) -> None:
    """A parent killed outright (SIGKILL) cannot stop its workers: they stop themselves, freeing the ports."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    ready_pipe: Connection
    serving: bool = False


@dataclass
class Supervisor:
    plan: WorkerPlan
    sockets: list[socket]
    count: int
    on_all_serving: Callable[[], None]  # called once, when every worker first serves (the banner)
    workers: list[_Worker] = field(default_factory=list)
    _stopping: bool = False
    _failed_starts: int = 0
    _announced: bool = False

    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._stop)
        try:
            for _ in range(self.count):
                self.workers.append(self._start())
            while not self._stopping:
                if not self._watch():
                    return 1
            return 0
        finally:
            self._stop_all()

    def _stop(self, signum: int, frame: object) -> None:
        self._stopping = True

    def _start(self) -> _Worker:
        reader, writer = _SPAWN.Pipe(duplex=False)
        process = _SPAWN.Process(target=work, args=(self.plan, self.sockets, writer), name="mocks-worker")
        # Ctrl-C reaches the whole process group, workers too; the parent alone decides and sends SIGTERM,
        # or a worker would stop on its own and look like a death to replace. An ignored signal stays
        # ignored through exec, so the worker ignores it from its first instruction, imports included.
        handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            process.start()
        finally:
            signal.signal(signal.SIGINT, handler)
        writer.close()  # the worker holds its own copy
        return _Worker(process, reader)

    def _watch(self) -> bool:
        """Wait a moment for news from the workers; False once they keep failing to start."""
        pipes = {w.ready_pipe: w for w in self.workers if not w.serving}
        ended = [w.process.sentinel for w in self.workers]
        for item in wait([*pipes, *ended], timeout=0.2):
            if item in pipes and not pipes[item].serving:
                self._serving(pipes[item])
        for index, worker in enumerate(self.workers):
            if self._stopping or worker.process.exitcode is None:
                continue
            worker.ready_pipe.close()
            if worker.serving:
                _say(f"worker {worker.process.pid} {_ended(worker.process.exitcode)}; starting another in its place")
            else:
                self._failed_starts += 1
                if self._failed_starts >= START_ATTEMPTS:
                    _say(f"error: workers keep failing to start ({self._failed_starts} in a row, the last "
                         f"{_ended(worker.process.exitcode)}): see the errors above; stopping")
                    return False
                backoff = min(0.25 * 2 ** self._failed_starts, 4.0)
                _say(f"worker {worker.process.pid} {_ended(worker.process.exitcode)} before serving; "
                     f"trying again in {backoff:g} s")
                self._pause(backoff)
                if self._stopping:
                    return True
            self.workers[index] = self._start()
        return True

    def _serving(self, worker: _Worker) -> None:
        try:
            worker.ready_pipe.recv()
        except (EOFError, OSError):
            return  # it died before it served: the sentinel tells
        worker.serving = True
        self._failed_starts = 0
        if not self._announced and all(w.serving for w in self.workers):
            self._announced = True
            self.on_all_serving()

    def _pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping and time.monotonic() < deadline:
            time.sleep(0.05)

    def _stop_all(self) -> None:
        for worker in self.workers:
            if worker.process.exitcode is None:
                worker.process.terminate()  # SIGTERM: the worker finishes its requests and stops
        deadline = time.monotonic() + STOP_TIMEOUT
        for worker in self.workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.exitcode is None:
                _say(f"worker {worker.process.pid} did not stop within {STOP_TIMEOUT:g} s; killing it")
                worker.process.kill()
                worker.process.join()
            worker.ready_pipe.close()


def serve_with_workers(sandbox: Sandbox, *, store: str, namespace: str, concurrency_lease: float, count: int,
                       on_all_serving: Callable[[], None]) -> int:
    """Serve `sandbox`'s bound listeners from `count` worker processes until SIGTERM or Ctrl-C; the exit code."""
    supervisor = Supervisor(WorkerPlan.of(sandbox, store, namespace, concurrency_lease),
                            [l.socket for l in sandbox.listeners], count, on_all_serving)
    try:
        return supervisor.run()
    finally:
        sandbox.close()


def _ended(exitcode: int) -> str:
    if exitcode < 0:
        return f"was killed by {signal.Signals(-exitcode).name}"
    return f"exited with code {exitcode}"


def _say(message: str) -> None:
    print(f"mocks: {message}", file=sys.stderr, flush=True)
