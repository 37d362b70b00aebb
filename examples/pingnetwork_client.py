"""Ping Network: open a reusable VPN session for a device, pause and resume it, then end it.

    mocks verify-client pingnetwork -- python examples/pingnetwork_client.py
    mocks verify-client pingnetwork -- python examples/pingnetwork_client.py --bug no-backoff

Sessions have no idempotency keys: when the answer to a create is lost, the client looks the session
up by its client_id before creating it again. Reads MOCKS_BASE_URL and MOCKS_CREDENTIALS (API token).
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

from resilient import Refused, Session, main

BUGS = {"no-backoff", "gives-up-at-once", "retries-forever", "ignores-retry-after"}
API = "/customer/v2"


def run(base_url: str, credentials: dict[str, Any], bugs: frozenset[str] = frozenset()) -> dict[str, Any]:
    session = Session(base_url, {"Authorization": credentials["schemes"]["ApiKeyAuth"]}, bugs=bugs)
    device = f"kiosk-{uuid.uuid4().hex[:10]}"

    def find_session() -> dict[str, Any] | None:
        listing = session.call("GET", f"{API}/sessions", params={"client_id": device, "limit": 100})
        return listing["data"][0] if listing["data"] else None

    try:
        zone = session.call("GET", f"{API}/zones")["data"][0]["code"]
        vpn = session.call("POST", f"{API}/sessions", lookup=find_session, json_body={
            "client_id": device, "connection_type": "vless", "zone": zone, "reusable": True})
        session.call("PATCH", f"{API}/sessions/{vpn['id']}/pause")
        session.call("PATCH", f"{API}/sessions/{vpn['id']}/resume")
        status = session.call("GET", f"{API}/sessions/{vpn['id']}/status")
        try:
            session.call("DELETE", f"{API}/sessions/{vpn['id']}")
        except Refused as refused:
            if refused.status != 404:  # a retried delete whose first answer was lost: already gone
                raise
        return {"session": vpn["id"], "zone": zone, "status": status}
    finally:
        session.close()


if __name__ == "__main__":
    sys.exit(main(run, BUGS))
