"""The same comparison over real HTTP: each app under uvicorn, loaded by wrk, alternating rounds.

    make bench          # runs benchmarks.run, then this when `wrk` is installed
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from benchmarks.run import PRODUCT, mock_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(kind: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.serve", kind, str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{kind} server did not start")


def wrk(port: int, method: str, path: str, headers: dict[str, str], body: str, seconds: int) -> float:
    lines = [f'wrk.method = "{method}"', f"wrk.body = {json.dumps(body)}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines))
    try:
        out = subprocess.run(["wrk", "-t1", "-c8", f"-d{seconds}s", "-s", script.name, f"http://127.0.0.1:{port}{path}"],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    if "Non-2xx" in out:
        raise RuntimeError(f"{method} {path}: non-2xx answers under load:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main(seconds: int, rounds: int) -> None:
    if shutil.which("wrk") is None:
        print("wrk is not installed: skipping the HTTP benchmark (apt-get install wrk)")
        return
    _, auth, product_id = mock_app()
    body = json.dumps(PRODUCT)
    bare, bare_port = start("bare")
    mock, mock_port = start("mock")
    try:
        print(f"\nover HTTP: uvicorn (1 process) + wrk -t1 -c8, {seconds} s per round, best of {rounds}\n")
        print(f"{'case':<6} {'bare Starlette req/s':>22} {'mock req/s':>12} {'ratio':>7}")
        json_headers = {"Content-Type": "application/json"}
        cases = {
            "GET": (("GET", "/v1/products/p1", {}, ""), ("GET", f"/v1/products/{product_id}", auth, "")),
            "POST": (("POST", "/v1/products", json_headers, body), ("POST", "/v1/products", auth | json_headers, body)),
        }
        for name, (bare_case, mock_case) in cases.items():
            best_bare = best_mock = 0.0
            for _ in range(rounds):
                best_bare = max(best_bare, wrk(bare_port, *bare_case, seconds))
                best_mock = max(best_mock, wrk(mock_port, *mock_case, seconds))
            print(f"{name:<6} {best_bare:>22,.0f} {best_mock:>12,.0f} {best_mock / best_bare:>7.2f}")
    finally:
        for process in (bare, mock):
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    main(options.seconds, options.rounds)
