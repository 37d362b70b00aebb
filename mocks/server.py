"""Serve several APIs at once: one uvicorn server per listener, one event loop, one clock."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import uvicorn

from mocks.admin_gate import admin_needs_token
from mocks.app import MockApp
from mocks.clock import Clock
from mocks.connection_limits import ConnectionLimits
from mocks.console.links import link_sandbox
from mocks.delivery_worker import LEASE
from mocks.engine import Api
from mocks.eventloop import new_event_loop
from mocks.heap import collect_when_idle, settle_after_start_up
from mocks.outbound import register_listeners, unregister_listeners
from mocks.protocol import guarded_protocol
from mocks.registry import load_api
from mocks.state import DEFAULT_CONCURRENCY_LEASE, DEFAULT_NAMESPACE, open_sandbox_state


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):
        # The sandbox owns signal handling: one Ctrl-C stops every listener together.
        yield


@dataclass(slots=True)
class Listener:
    api: Api
    name: str
    host: str
    port: int
    tls: bool
    socket: socket.socket | None = None

    @property
    def url(self) -> str:
        host = "localhost" if self.host in ("", "127.0.0.1", "0.0.0.0", "::") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}{self.api.contract.prefix}"


@dataclass
class Sandbox:
    """The APIs being served, their listeners, and the shared clock."""

    apis: dict[str, Api]
    host: str = "127.0.0.1"
    ports: dict[str, int] = field(default_factory=dict)  # "api" or "api.listener" -> port
    admin: bool = True
    admin_token: str | None = None
    tls: dict[str, tuple[str, str]] = field(default_factory=dict)  # api -> (cert, key)
    limits: ConnectionLimits = field(default_factory=ConnectionLimits)  # per listener
    delivery_lease: float = LEASE  # seconds one webhook delivery attempt may hold its lease
    listeners: list[Listener] = field(default_factory=list)
    _servers: list[_Server] = field(default_factory=list)
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def create(cls, names: list[str], *, store: str = "memory", namespace: str = DEFAULT_NAMESPACE,
               clock: Clock | None = None, concurrency_lease: float = DEFAULT_CONCURRENCY_LEASE,
               delivery_lease: float = LEASE, **options) -> Sandbox:
        shared = clock or Clock(state=open_sandbox_state(store, namespace=namespace))
        apis = {name: load_api(name, store=store, namespace=namespace, clock=shared,
                               concurrency_lease=concurrency_lease, delivery_lease=delivery_lease)
                for name in names}
        return cls(apis, delivery_lease=delivery_lease, **options)

    def bind(self, sockets: list[socket.socket] | None = None) -> list[Listener]:
        """Open every listening socket up front, so ports are known (port 0 = any free port).

        `sockets`: serve on these, already bound by a parent process (`--workers`), one per listener in the
        order the parent's `listeners` lists them, instead of binding new ones."""
        if self.admin and self.admin_token is None and admin_needs_token(self.host):
            where = f"host {self.host}" if self.host else "every interface (--host '')"
            raise ValueError(f"the admin API on {where} (not loopback only) needs --admin-token (or --no-admin)")
        inherited = iter(sockets) if sockets is not None else None
        for api in self.apis.values():
            for name, spec in api.contract.listeners.items():
                sock = next(inherited) if inherited is not None else self._listen(api, name, spec)
                listener = Listener(api, name, self.host, sock.getsockname()[1], api.name in self.tls, sock)
                self.listeners.append(listener)
                register_listeners([listener.port])  # outbound requests must never reach it
            api.base_urls = {l.name: l.url for l in self.listeners if l.api is api}
        link_sandbox(self.apis.values())  # each API's console links to the others
        return self.listeners

    def _listen(self, api: Api, name: str, spec: dict) -> socket.socket:
        port = self.ports.get(f"{api.name}.{name}", self.ports.get(api.name) if name == api.primary_listener else None)
        port = int(spec.get("port", 0)) if port is None else port
        # IPPROTO_TCP explicitly: asyncio then sets TCP_NODELAY, or small responses wait ~40 ms
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM,
                             socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, port))
        except OSError as exc:
            sock.close()
            self.close()
            raise OSError(f"{api.name} ({name}): cannot listen on {self.host}:{port}: {exc.strerror}; "
                          f"choose another with --port {api.name}={port + 1000}") from None
        sock.listen(128)
        return sock

    def close(self) -> None:
        unregister_listeners(l.port for l in self.listeners)
        for listener in self.listeners:
            if listener.socket is not None:
                listener.socket.close()
        self.listeners.clear()

    async def serve(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve every listener; `on_ready` is called once all of them accept connections."""
        if not self.listeners:
            self.bind()
        for listener in self.listeners:
            app = MockApp(listener.api, listener.name, admin=self.admin, admin_token=self.admin_token,
                          served_on_socket=True)
            cert, key = self.tls.get(listener.api.name, (None, None))
            limits = self.limits
            # proxy_headers off: a client's own address is who it is (X-Forwarded-For would let any local
            # client pick its rate-limit key), and both of the protocol's lanes see the same client
            config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", proxy_headers=False,
                                    ssl_certfile=cert, ssl_keyfile=key, timeout_graceful_shutdown=2,
                                    http=guarded_protocol(limits, listener.api.errors),
                                    timeout_keep_alive=limits.keep_alive,  # type: ignore[arg-type]
                                    h11_max_incomplete_event_size=limits.max_header_bytes)
            self._servers.append(_Server(config))
        serving = [server.serve(sockets=[l.socket]) for server, l in zip(self._servers, self.listeners)]
        collecting = asyncio.get_running_loop().create_task(
            collect_when_idle(lambda: sum(server.server_state.total_requests for server in self._servers)))
        try:
            await asyncio.gather(*serving, *([self._announce(on_ready)] if on_ready else []))
        finally:
            collecting.cancel()

    async def _announce(self, on_ready: Callable[[], None]) -> None:
        while not all(server.started for server in self._servers):  # uvicorn has no hook: look every 20 ms
            if any(server.should_exit for server in self._servers):
                return
            await asyncio.sleep(0.02)
        on_ready()

    def stop(self) -> None:
        for server in self._servers:
            server.should_exit = True

    def run(self, *, stop_on: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM),
            on_ready: Callable[[], None] | None = None) -> None:
        """Serve in the foreground until one of the `stop_on` signals (Ctrl-C or SIGTERM)."""

        def ready() -> None:
            if on_ready is not None:
                on_ready()
            settle_after_start_up()  # once every listener accepts: start-up is not kept waiting for it

        loop = new_event_loop()
        for sig in stop_on:
            loop.add_signal_handler(sig, self.stop)
        try:
            loop.run_until_complete(self.serve(ready))
        finally:
            loop.close()
            self.close()

    # background use: tests and the pytest plugin -------------------------------------------------
    def start(self, timeout: float = 10.0) -> Sandbox:
        self.bind()
        self._thread = threading.Thread(target=self._run_in_thread, name="mocks-sandbox", daemon=True)
        self._thread.start()
        deadline = threading.Event()
        for _ in range(int(timeout * 50)):
            if self._servers and len(self._servers) == len(self.listeners) and all(s.started for s in self._servers):
                return self
            deadline.wait(0.02)
        raise RuntimeError("the sandbox did not start in time")

    def _run_in_thread(self) -> None:
        self._loop = new_event_loop()
        self._loop.run_until_complete(self.serve())
        self._loop.close()

    def shutdown(self) -> None:
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.close()

