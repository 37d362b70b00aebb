"""`make bench`'s verdicts: each target judged on figures taken in one run, with the figure it was judged on,
and beside each ratio to WireMock what bare Starlette scores against it in that run (the ceiling)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from benchmarks.http import BARE, HTTP_LAYER, SANDBOX, WIREMOCK, WIREMOCK_NO_JOURNAL, Server, report


def server(name: str, get: float, post: float, p99: float = 5.0) -> Server:
    measured = Server(name, lambda port: [])
    for key, value in {"GET rps": get, "POST rps": post, "GET p50": 1.0, "GET p99": p99, "POST p50": 1.0,
                       "POST p99": p99, "startup": 0.2, "rss idle": 40, "rss after": 50}.items():
        measured.add(key, value)
    return measured


ROOT = Path(__file__).resolve().parents[2]
VERDICT = re.compile(r"^  (met|NOT met)\s+(.+?): (.+)$")  # "  met      <target>: <figure>"


def verdicts(capsys, *servers: Server) -> dict[str, str]:
    """{target: "met:<figure>" or "NOT met:<figure>"}, read from the printed report."""
    report(list(servers), all_five=[0.3], memory=[(0, 40.0), (10, 41.0), (20, 41.0), (30, 41.0)])
    targets = capsys.readouterr().out.split("\ntargets")[1].splitlines()[1:]
    return {m[2]: f"{m[1]}:{m[3]}" for m in map(VERDICT.match, targets) if m}


def test_every_target_is_judged_with_the_figure_it_was_judged_on(capsys):
    judged = verdicts(capsys, server(SANDBOX, 12_000, 7_000, p99=12.0), server(BARE, 23_000, 16_000),
                      server(WIREMOCK, 6_000, 4_000), server(WIREMOCK_NO_JOURNAL, 34_000, 34_000))
    assert judged["GET >= 2.0x WireMock 3 (journal on)"] == "met:2.00x; bare Starlette 3.83x"
    assert judged["POST >= 1.5x WireMock 3 (journal on)"] == "met:1.75x; bare Starlette 4.00x"
    assert judged["GET >= 1.0x WireMock 3 --no-request-journal"] == "NOT met:0.35x; bare Starlette 0.68x"
    assert judged["GET >= 0.5x bare Starlette"] == "met:0.52x"
    assert judged["GET p99 <= 10 ms at 32 connections"] == "NOT met:12.0 ms"
    assert judged["POST p99 <= 15 ms at 32 connections"] == "met:12.0 ms"
    assert judged["RSS flat over the GET load (< 5 MB growth after the first quarter)"] == "met:+0.0 MB"


def test_without_the_anchors_no_wiremock_target_is_judged(capsys):
    judged = verdicts(capsys, server(SANDBOX, 12_000, 7_000), server(BARE, 30_000, 16_000))
    assert judged["GET >= 0.5x bare Starlette"] == "NOT met:0.40x"
    assert not [text for text in judged if "WireMock" in text]


def time_lines(capsys, *servers: Server) -> dict[str, list[str]]:
    """{row: [GET us, POST us]} of the report's time-per-request block ({} when it is not printed)."""
    report(list(servers), all_five=[0.3], memory=[(0, 40.0), (30, 40.0)])
    out = capsys.readouterr().out
    if "\ntime per request" not in out:
        return {}
    rows = out.split("\ntime per request")[1].splitlines()[1:]
    return {m[1]: m[2].split() for m in (re.match(r"^  (.+?)\s{2,}([\d. ]+)$", row) for row in rows) if m}


def test_a_requests_time_is_split_between_serving_http_and_the_pipeline_against_what_the_targets_allow(capsys):
    rows = time_lines(capsys, server(SANDBOX, 20_000, 10_000), server(HTTP_LAYER, 50_000, 40_000),
                      server(BARE, 30_000, 20_000), server(WIREMOCK, 25_000, 20_000),
                      server(WIREMOCK_NO_JOURNAL, 40_000, 40_000))
    assert rows == {"this sandbox": ["50.0", "100.0"], HTTP_LAYER: ["20.0", "25.0"],
                    "so the pipeline": ["30.0", "75.0"],
                    "what 2.0x WireMock's GETs, 1.5x its POSTs allow": ["20.0", "33.3"],
                    "what 1.0x WireMock's GETs without journal allow": ["25.0"]}


def test_without_the_fixed_answer_server_no_split_is_printed(capsys):
    assert time_lines(capsys, server(SANDBOX, 20_000, 10_000), server(BARE, 30_000, 20_000)) == {}


def test_the_in_process_benchmark_prints_each_case_with_its_answer_alone_in_microseconds():
    """`python -m benchmarks.run`, tiny, as `make bench` runs it: both routes answered (a failure raises), the
    direct lane's figure printed both as req/s and as the microseconds per request it stands for, and beside it
    the same answer's microseconds with the caches evicted before each."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.run", "--requests", "50", "--rounds", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    rows = {m[1]: m for m in re.finditer(
        r"^(GET|POST)\s+([\d,]+)\s+([\d,]+)\s+([\d.]+)\s+([\d,]+)\s+([\d.]+)\s+([\d.]+)$", done.stdout, re.MULTILINE)}
    assert set(rows) == {"GET", "POST"}, done.stdout
    for row in rows.values():
        answer_rps, micros = float(row[5].replace(",", "")), float(row[6])
        assert answer_rps > 0 and abs(micros - 1e6 / answer_rps) <= 0.05 + micros * 0.01, row[0]
        assert float(row[7]) > 0, row[0]
