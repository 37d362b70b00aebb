"""Server processes for the HTTP benchmark: start one, time its start-up, read its memory, stop it."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Probe:
    """A request that must answer `status` once a server is ready (a benchmark route)."""

    path: str
    headers: dict[str, str]
    status: int = 200


@dataclass
class Running:
    name: str
    process: subprocess.Popen
    port: int
    startup: float  # seconds from spawn to the first answered probe

    def rss_mb(self) -> float:
        """Resident memory of the process and every descendant (a wrapper's JVM counts too)."""
        return sum(_rss_kb(pid) for pid in _tree(self.process.pid)) / 1024

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(name: str, command: list[str], port: int, probes: list[tuple[int, Probe]], *,
           cwd: Path | None = None, timeout: float = 90.0) -> Running:
    """Spawn `command` in its own process group and wait until every (port, probe) answers as expected."""
    # stderr to a file, not a pipe: a chatty server must never block on a pipe nobody reads
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors, start_new_session=True)
        running = Running(name, process, port, 0.0)
        pending = list(probes)
        while pending:
            if process.poll() is not None:
                errors.seek(0)
                raise RuntimeError(f"{name} exited with {process.returncode}: {errors.read().decode()[-2000:]}")
            if time.perf_counter() - started > timeout:
                running.stop()
                raise RuntimeError(f"{name} did not answer within {timeout:.0f} s")
            if _answers(*pending[0]):
                pending.pop(0)
            else:
                time.sleep(0.005)
    running.startup = time.perf_counter() - started
    return running


def _answers(port: int, probe: Probe) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", probe.path, headers=probe.headers)
        return connection.getresponse().status == probe.status
    except OSError:
        return False
    finally:
        connection.close()


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
