"""`benchmarks/fixed_answer.py`, the sandbox's HTTP layer alone in `make bench`: the real server answers
every API request with the pipeline's first successful GET answer, and the pipeline runs only for that one."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

from benchmarks.processes import Probe, free_port, launch
from benchmarks.routes import istockist_routes

ROOT = Path(__file__).resolve().parents[2]


def test_every_api_request_gets_the_first_get_answer_without_the_pipeline():
    routes = istockist_routes()
    port = free_port()
    running = launch("fixed answer", [sys.executable, "-m", "benchmarks.fixed_answer", str(port), routes.get.path],
                     port, [(port, Probe(routes.get.path, routes.get.headers))], cwd=ROOT)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            post = client.post(routes.post.path, headers=routes.post.headers, content=routes.post.body)
            unknown = client.get("/v1/nowhere")
            entries = client.get("/__mock/journal").json()["entries"]
    finally:
        running.stop()
    assert post.status_code == 200 and post.json() == routes.customer
    assert unknown.status_code == 200 and unknown.json() == routes.customer
    assert [(e["method"], e["path"]) for e in entries] == [("GET", routes.get.path)], entries
