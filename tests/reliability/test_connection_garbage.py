"""A closed connection leaves nothing that only the garbage collector could free. A serving process
freezes what survives each collection (mocks/heap.py), so a reference cycle per connection would
be memory held until the next thorough collection: hundreds of bytes a connection, growing without
end under clients that connect per request. Checked in a fresh interpreter, with the collector
saving what it finds."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import collections, gc, socket, sys, time
    from benchmarks.routes import istockist_routes
    from mocks.server import Sandbox

    routes = istockist_routes()
    sandbox = Sandbox.create(["istockist"], ports={"istockist": 0}).start()
    api = sandbox.apis["istockist"]
    port = sandbox.listeners[0].port
    auth = routes.get.headers["Authorization"]

    def connection(request: bytes, *, until_closed: bool = True) -> None:
        # Read until the server closes, or leave after the first bytes of the answer.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(request)
            try:
                while sock.recv(65536) and until_closed:
                    pass
            except ConnectionResetError:
                pass

    def kinds() -> None:
        head = f"Host: x\\r\\nAuthorization: {auth}\\r\\nConnection: close\\r\\n"
        connection(f"GET {routes.get.path} HTTP/1.1\\r\\n{head}\\r\\n".encode())  # the direct lane
        connection(f"GET {routes.get.path} HTTP/1.1\\r\\n{head}Transfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n"
                   .encode())  # the ASGI lane
        connection(f"GET /v1/customers HTTP/1.1\\r\\n{head}\\r\\n".encode())  # dropped by the fault
        connection(b"GET /nowhere HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n", until_closed=False)  # kept alive: the client leaves first

    api.add_fault({"operation": "listCustomers", "drop": "before"})
    for _ in range(5):
        kinds()
    time.sleep(0.3)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    for _ in range(25):
        kinds()
    time.sleep(0.5)
    gc.collect()
    found = collections.Counter(type(o).__qualname__ for o in gc.garbage)
    print(sum(found.values()), dict(found.most_common(8)))
    gc.set_debug(0)
    sandbox.shutdown()
""")


def test_closed_connections_leave_no_cyclic_garbage():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, check=False, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    count, _, kinds = done.stdout.strip().partition(" ")
    assert int(count) == 0, f"100 connections left cyclic garbage: {kinds}"
