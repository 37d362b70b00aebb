"""Run `mocks serve` as a real process for tests, and read its printed table as a person would.

Every listener is given port 0 (`--port API=0`, `--port API.LISTENER=0`), so the sandbox binds free
ports and the printed table names the real ones; the tests read the table like a person would.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from mocks.control import conformance_hook

ROOT = Path(__file__).resolve().parents[1]
MOCKS = Path(sys.executable).with_name("mocks")
COMMAND = [str(MOCKS)] if MOCKS.exists() else [sys.executable, "-m", "mocks.cli"]
ALL_PORTS_FREE = ["--port", "konducter=0", "--port", "konducter.local=0", "--port", "lagerkoll=0",
                  "--port", "istockist=0", "--port", "pingnetwork=0", "--port", "plggr=0"]
LISTENER_LINE = re.compile(r"^\s+(\w+) \((\w+)\)\s+(https?://\S+)(?:\s+admin: (\S+))?\s*$")
CREDENTIAL_LINE = re.compile(r"^\s+(\w+)\s+(\S+)\s+(.*?)\s+\[scopes: (.*)\]\s*$")
DOC_SITE = "00000000-0000-0000-0000-000000000000"


@dataclass
class Served:
    """A running `mocks serve` and what it printed."""

    process: subprocess.Popen
    lines: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    output: queue.Queue = field(default_factory=queue.Queue)   # stdout lines as they come; None at the end

    @property
    def urls(self) -> dict[tuple[str, str], str]:
        return {(m[1], m[2]): m[3] for m in map(LISTENER_LINE.match, self.lines) if m}

    @property
    def admin_links(self) -> dict[str, str]:
        return {m[1]: m[4] for m in map(LISTENER_LINE.match, self.lines) if m and m[4]}

    def credential(self, api: str, principal: str) -> tuple[dict[str, str], list[str]]:
        """The printed `Scheme=value` pairs and scopes of one sandbox principal."""
        for match in map(CREDENTIAL_LINE.match, self.lines):
            if match and match[1] == api and match[2] == principal:
                pairs = dict(pair.split("=", 1) for pair in match[3].split(", "))
                return pairs, [s.strip() for s in match[4].split(",")]
        raise AssertionError(f"no printed credential for {api} {principal}:\n" + "\n".join(self.lines))

    def client(self, api: str, listener: str = "api", *, checked: bool = True) -> httpx.Client:
        url = self.urls[(api, listener)]
        hooks = {"response": [conformance_hook(api)]} if checked else {}
        return httpx.Client(base_url=url, timeout=10, event_hooks=hooks)


def _pump(stream, sink: queue.Queue) -> None:
    for line in iter(stream.readline, ""):
        sink.put(line.rstrip("\n"))
    sink.put(None)


def start_serve(*args: str, timeout: float = 30.0, expect_table: bool = True) -> Served:
    """Start `mocks serve ARGS...` and (unless told not to) wait until it has printed its table."""
    process = subprocess.Popen([*COMMAND, "serve", *args], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    served = Served(process)
    out = served.output
    threading.Thread(target=_pump, args=(process.stdout, out), daemon=True).start()
    threading.Thread(target=lambda: served.stderr.extend(process.stderr.read().splitlines()), daemon=True).start()
    if not expect_table:
        return served
    deadline, seen_credentials, quiet_since = time.monotonic() + timeout, False, None
    while time.monotonic() < deadline:
        try:
            line = out.get(timeout=0.1)
        except queue.Empty:
            if seen_credentials and quiet_since and time.monotonic() - quiet_since > 0.3:
                return served
            continue
        if line is None:
            raise AssertionError(f"mocks serve exited {process.wait()}: {served.lines} {served.stderr}")
        served.lines.append(line)
        seen_credentials = seen_credentials or line.startswith("Sandbox credentials:")
        quiet_since = time.monotonic()
    end(served)
    raise AssertionError(f"no table from mocks serve within {timeout}s: {served.lines}")


def end(served: Served) -> None:
    """SIGTERM (then SIGKILL) a process these tests started, if it still runs."""
    if served.process.poll() is None:
        served.process.send_signal(signal.SIGTERM)
        try:
            served.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            served.process.kill()
            served.process.wait()
