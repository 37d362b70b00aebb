"""Ping Network over HTTP: v1/v2 on one state, v2-only fields and routes, pause/resume, rate-limit headers,
and the live server-sent-events stream on a real port."""

from __future__ import annotations

import json
import queue
import threading
import uuid
from pathlib import Path

import httpx
import yaml


def _load_yaml(text: str):
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


SCHEMAS = _load_yaml((Path(__file__).resolve().parents[2] / "contracts" / "pingnetwork.yaml").read_text())[
    "components"]["schemas"]
V2_ONLY = set(SCHEMAS["SessionV2"]["properties"]) - set(SCHEMAS["SessionV1"]["properties"])

ENDED = "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7"   # Acme, state ended
PAUSED = "7a3d9e2b-4c5f-4b6a-8d1e-2f3a4b5c6d7e"  # Acme, state paused
ACTIVE = "5b1e7c0a-3f2d-4a8e-9c61-0d4b2a7f8e13"  # Acme, active and connected
GLOBEX = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"  # Globex's


def new_session(pingnetwork, version: str = "v2", principal: str | None = None, **extra) -> dict:
    body = {"client_id": f"c-{uuid.uuid4().hex[:10]}", "connection_type": "vless", "zone": "de", **extra}
    response = pingnetwork.client.post(f"/customer/{version}/sessions", json=body,
                                       headers=pingnetwork.auth_headers(principal))
    assert response.status_code == 201, response.text
    return response.json()


def parse_frames(text: str) -> list[dict]:
    """SSE text -> [{event, id, data}] for event frames (the retry frame and comments are skipped)."""
    frames = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in fields:
            frames.append({"event": fields["event"], "id": int(fields["id"]), "data": json.loads(fields["data"])})
    return frames


# ------------------------------------------------------------------------------- shared state
def test_created_in_v2_read_in_v1_without_v2_fields(pingnetwork):
    assert {"reusable", "configuration_link", "state"} <= V2_ONLY  # else the checks below prove nothing
    session = new_session(pingnetwork, "v2", reusable=True)
    assert session["reusable"] is True and session["state"] == "active"
    assert session["configuration_link"].startswith("vless://")
    headers = pingnetwork.auth_headers()

    v1 = pingnetwork.client.get(f"/customer/v1/sessions/{session['id']}", headers=headers)
    assert v1.status_code == 200
    assert not V2_ONLY & set(v1.json())
    assert {k: v for k, v in session.items() if k not in V2_ONLY} == v1.json()

    listed = pingnetwork.client.get("/customer/v1/sessions", headers=headers, params={"limit": 100}).json()["data"]
    assert session["id"] in [s["id"] for s in listed]
    assert all(not V2_ONLY & set(s) for s in listed)

    status = pingnetwork.client.get(f"/customer/v1/sessions/{session['id']}/status", headers=headers)
    assert status.status_code == 200
    assert status.json()["status"] == "created"
    assert not V2_ONLY & set(status.json())


def test_created_in_v1_read_and_deleted_across_versions(pingnetwork):
    session = new_session(pingnetwork, "v1")
    assert not V2_ONLY & set(session)
    headers = pingnetwork.auth_headers()
    v2 = pingnetwork.client.get(f"/customer/v2/sessions/{session['id']}", headers=headers)
    assert v2.status_code == 200
    assert v2.json()["reusable"] is False and v2.json()["state"] == "active"
    assert v2.json()["client_id"] == session["client_id"]

    assert pingnetwork.client.delete(f"/customer/v1/sessions/{session['id']}", headers=headers).status_code == 204
    gone = pingnetwork.client.get(f"/customer/v2/sessions/{session['id']}", headers=headers)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_found"


def test_v1_never_shows_v2_fields_of_seeded_v2_sessions(pingnetwork):
    for session_id in (ENDED, PAUSED, ACTIVE):
        response = pingnetwork.client.get(f"/customer/v1/sessions/{session_id}", headers=pingnetwork.auth_headers())
        assert response.status_code == 200
        assert not V2_ONLY & set(response.json()), session_id
    v2 = pingnetwork.client.get(f"/customer/v2/sessions/{PAUSED}", headers=pingnetwork.auth_headers()).json()
    assert v2["state"] == "paused" and v2["reusable"] is True


def test_v1_create_refuses_v2_fields(pingnetwork):
    response = pingnetwork.client.post("/customer/v1/sessions", headers=pingnetwork.auth_headers(),
                                       json={"client_id": "laptop-1", "connection_type": "vless", "zone": "de",
                                             "reusable": True})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert all(s["client_id"] != "laptop-1" for s in pingnetwork.admin.state()["session"])


def test_v2_only_routes_are_404_on_v1(pingnetwork):
    for action in ("pause", "resume"):
        response = pingnetwork.client.patch(f"/customer/v1/sessions/{ACTIVE}/{action}",
                                            headers=pingnetwork.auth_headers())
        assert response.status_code == 404, action
        assert response.json()["error"]["code"] == "not_found"
    state = pingnetwork.client.get(f"/customer/v2/sessions/{ACTIVE}", headers=pingnetwork.auth_headers()).json()
    assert state["state"] == "active"


def test_another_customers_session_is_404(pingnetwork):
    for version in ("v1", "v2"):
        response = pingnetwork.client.get(f"/customer/{version}/sessions/{GLOBEX}", headers=pingnetwork.auth_headers())
        assert response.status_code == 404
    paused = pingnetwork.client.patch(f"/customer/v2/sessions/{GLOBEX}/pause", headers=pingnetwork.auth_headers())
    assert paused.status_code == 404
    theirs = pingnetwork.client.get(f"/customer/v2/sessions/{GLOBEX}", headers=pingnetwork.auth_headers("globex-primary"))
    assert theirs.json()["state"] == "active"


# ---------------------------------------------------------------------------------- pause/resume
def test_pause_and_resume_transitions(pingnetwork):
    session = new_session(pingnetwork, "v2")
    headers, sid = pingnetwork.auth_headers(), session["id"]

    def state() -> str:
        return pingnetwork.client.get(f"/customer/v2/sessions/{sid}", headers=headers).json()["state"]

    paused = pingnetwork.client.patch(f"/customer/v2/sessions/{sid}/pause", headers=headers)
    assert paused.status_code == 200 and paused.json() == {"session_id": sid, "paused": True}
    assert state() == "paused"
    again = pingnetwork.client.patch(f"/customer/v2/sessions/{sid}/pause", headers=headers)
    assert again.status_code == 200 and state() == "paused"
    resumed = pingnetwork.client.patch(f"/customer/v2/sessions/{sid}/resume", headers=headers)
    assert resumed.status_code == 200 and resumed.json() == {"session_id": sid, "paused": False}
    assert state() == "active"
    assert pingnetwork.client.patch(f"/customer/v2/sessions/{PAUSED}/resume", headers=headers).status_code == 200
    assert pingnetwork.client.get(f"/customer/v2/sessions/{PAUSED}", headers=headers).json()["state"] == "active"


def test_an_ended_session_cannot_change(pingnetwork):
    for action in ("pause", "resume"):
        response = pingnetwork.client.patch(f"/customer/v2/sessions/{ENDED}/{action}",
                                            headers=pingnetwork.auth_headers())
        assert response.status_code == 409, action
        assert response.json()["error"]["code"] == "invalid_session_state"
    stored = pingnetwork.client.get(f"/customer/v2/sessions/{ENDED}", headers=pingnetwork.auth_headers()).json()
    assert stored["state"] == "ended"


def test_pause_of_an_unknown_session_is_404(pingnetwork):
    response = pingnetwork.client.patch(f"/customer/v2/sessions/{uuid.uuid4()}/pause", headers=pingnetwork.auth_headers())
    assert response.status_code == 404


# ------------------------------------------------------------------------------------ rate limits
def test_rate_limit_headers_on_every_response_with_exact_remaining(pingnetwork):
    pingnetwork.admin.freeze()
    headers = pingnetwork.auth_headers()
    client = pingnetwork.client
    responses = [
        client.get("/customer/v1/zones", headers=headers),
        client.get(f"/customer/v2/sessions/{uuid.uuid4()}", headers=headers),
        client.post("/customer/v2/sessions", headers=headers,
                    json={"client_id": "rl-1", "connection_type": "vless", "zone": "de"}),
        client.patch(f"/customer/v2/sessions/{ENDED}/pause", headers=headers),
        client.post("/customer/v1/sessions", headers=headers, json={"client_id": "rl-2"}),
        client.get("/customer/v2/sessions/events", headers=headers),
        client.get("/customer/v1/customer/limits/global", headers=headers),
    ]
    assert [r.status_code for r in responses] == [200, 404, 201, 409, 400, 200, 200]
    assert [r.headers["X-RateLimit-Limit"] for r in responses] == ["60"] * 7
    assert [int(r.headers["X-RateLimit-Remaining"]) for r in responses] == list(range(59, 52, -1))
    assert [r.headers["X-RateLimit-Reset"] for r in responses] == ["60"] * 7

    denied = client.get("/customer/v1/zones", headers={"Authorization": "pn_test_wrong"})
    assert denied.status_code == 401
    assert "x-ratelimit-remaining" not in denied.headers  # not counted
    assert client.get("/customer/v1/zones", headers=headers).headers["X-RateLimit-Remaining"] == "52"


def test_reset_counts_down_on_the_virtual_clock_and_429_names_it(pingnetwork):
    pingnetwork.admin.freeze()
    headers = pingnetwork.auth_headers()
    first = pingnetwork.client.get("/customer/v2/zones", headers=headers)
    assert first.headers["X-RateLimit-Reset"] == "60"
    pingnetwork.admin.advance(15)
    assert pingnetwork.client.get("/customer/v2/zones", headers=headers).headers["X-RateLimit-Reset"] == "45"
    pingnetwork.admin.advance(25)
    last = None
    for _ in range(58):
        last = pingnetwork.client.get("/customer/v2/zones", headers=headers)
        assert last.status_code == 200
    assert last.headers["X-RateLimit-Remaining"] == "0"
    assert last.headers["X-RateLimit-Reset"] == "20"
    over = pingnetwork.client.get("/customer/v2/zones", headers=headers)
    assert over.status_code == 429
    assert over.json()["error"]["code"] == "rate_limit_exceeded"
    assert over.headers["Retry-After"] == "20"
    assert over.headers["X-RateLimit-Remaining"] == "0"
    other_token = pingnetwork.client.get("/customer/v2/zones", headers=pingnetwork.auth_headers("acme-ci"))
    assert other_token.status_code == 200 and other_token.headers["X-RateLimit-Remaining"] == "59"
    pingnetwork.admin.advance(20)
    again = pingnetwork.client.get("/customer/v2/zones", headers=headers)
    assert again.status_code == 200
    assert again.headers["X-RateLimit-Remaining"] == "0"  # one slot freed (the first request), now used


# ------------------------------------------------------------------------------ server-sent events
def test_event_stream_without_event_stream_accept_ends_after_the_snapshot(pingnetwork):
    response = pingnetwork.client.get("/customer/v2/sessions/events", headers=pingnetwork.auth_headers())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.startswith("retry: 5000\n\n")
    frames = parse_frames(response.text)
    assert [f["id"] for f in frames] == list(range(1, len(frames) + 1))
    assert [(f["event"], f["data"]["session_id"]) for f in frames] == [
        ("session_start", ENDED), ("session_end", ENDED), ("session_start", PAUSED),
        ("session_start", ACTIVE), ("session_heartbeat", ACTIVE)]
    empty = pingnetwork.client.get("/customer/v1/sessions/events", headers=pingnetwork.auth_headers("initech-primary"))
    assert empty.text == "retry: 5000\n\n"


def test_event_stream_is_live_on_a_real_port(mock_server):
    api = mock_server("pingnetwork")
    headers = api.auth_headers("globex-primary")
    lines: queue.Queue = queue.Queue()
    stream_client = httpx.Client(base_url=api.base_url, timeout=httpx.Timeout(10, read=20))
    opened = threading.Event()

    def consume() -> None:
        try:
            with stream_client.stream("GET", "/customer/v2/sessions/events",
                                      headers={**headers, "Accept": "text/event-stream"}) as response:
                lines.put(("status", response.status_code, response.headers.get("content-type")))
                opened.set()
                saw_end = False
                for line in response.iter_lines():
                    lines.put(("line", line))
                    saw_end = saw_end or line == "event: session_end"
                    if saw_end and line == "":
                        break  # leaving the block closes the stream (Globex's snapshot has no session_end)
        except httpx.HTTPError as exc:
            lines.put(("error", exc))
        finally:
            opened.set()

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    try:
        assert opened.wait(10)
        kind, status, content_type = lines.get(timeout=5)
        assert (kind, status) == ("status", 200) and content_type.startswith("text/event-stream")

        def next_frame() -> dict:
            block: list[str] = []
            while True:
                item = lines.get(timeout=5)  # bounded: a missing frame fails the test
                assert item[0] == "line", item
                if item[1] == "" and block:
                    frames = parse_frames("\n".join(block) + "\n\n")
                    if frames:
                        return frames[0]
                    block = []
                elif item[1]:
                    block.append(item[1])

        snapshot = [next_frame() for _ in range(3)]  # Globex: start+heartbeat, start
        assert [f["event"] for f in snapshot] == ["session_start", "session_heartbeat", "session_start"]

        created = api.client.post("/customer/v2/sessions", headers=headers,
                                  json={"client_id": "live-1", "connection_type": "vless", "zone": "us"})
        assert created.status_code == 201
        started = next_frame()
        assert started["event"] == "session_start" and started["id"] == 4
        assert started["data"]["session_id"] == created.json()["id"]
        assert started["data"]["client_id"] == "live-1"

        other = api.client.post("/customer/v2/sessions", headers=api.auth_headers("acme-primary"),
                                json={"client_id": "not-mine", "connection_type": "vless", "zone": "de"})
        assert other.status_code == 201
        assert api.client.delete(f"/customer/v1/sessions/{created.json()['id']}", headers=headers).status_code == 204
        ended = next_frame()  # Acme's session never shows up in Globex's stream
        assert ended["event"] == "session_end" and ended["id"] == 5
        assert ended["data"]["session_id"] == created.json()["id"]
    finally:
        stream_client.close()
        reader.join(5)
    assert not reader.is_alive()
    # the same stream without `Accept: text/event-stream` ends after the snapshot, on a real socket too
    one_shot = httpx.get(f"{api.base_url}/customer/v2/sessions/events", headers=headers, timeout=5)
    assert one_shot.status_code == 200
    assert [f["event"] for f in parse_frames(one_shot.text)] == [
        "session_start", "session_heartbeat", "session_start"]
