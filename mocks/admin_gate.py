"""Who may reach the /__mock/ admin API: the one check before any admin handler runs.

The admin API steers the whole sandbox (faults, clock, state), so a web page the QA engineer
happens to open must not reach it: no cross-origin requests, writes only as JSON (which a page
cannot send cross-origin without a CORS preflight we never grant), and, while the API is open
on loopback, only loopback Host names (a DNS-rebound name is refused). Same-origin requests,
e.g. from a page the sandbox serves itself, pass.
"""

from __future__ import annotations

import hmac
import ipaddress

from mocks.media import essence
from mocks.types import MockRequest

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SAME_ORIGIN_FETCHES = frozenset({"same-origin", "none"})  # `none`: typed into the address bar


def is_loopback_host(host: str) -> bool:
    """localhost, 127.x.x.x or ::1 (brackets allowed): a name only this machine can reach."""
    host = host.strip().lower().removesuffix(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


def admin_needs_token(host: str) -> bool:
    """The admin API may run open only on a loopback-only bind ("" and 0.0.0.0 or :: are every interface)."""
    return not is_loopback_host(host) if host else True


def refusal(request: MockRequest, *, token: str | None, served_on_socket: bool) -> tuple[int, str] | None:
    """(status, why) when the request may not reach an admin handler; None when it may."""
    host = request.header("host") or ""
    if token is None and served_on_socket and not is_loopback_host(_host_name(host)):
        return 421, (f"the open admin API answers only loopback Host names (localhost, 127.0.0.1, [::1]), "
                     f"not '{host}'; start the sandbox with --admin-token to reach it by another name")
    fetch_site = request.header("sec-fetch-site")
    if fetch_site is not None and fetch_site.lower() not in _SAME_ORIGIN_FETCHES:
        return 403, f"the admin API refuses requests from other sites (Sec-Fetch-Site: {fetch_site})"
    origin = request.header("origin")
    if origin is not None and origin.rstrip("/").lower() != f"{request.scheme}://{host}".lower():
        return 403, f"the admin API refuses cross-origin requests (Origin: {origin}); only its own origin may call it"
    if token is not None and not _token_matches(request.header("authorization"), token):
        return 401, "the admin API needs 'Authorization: Bearer <token>'"
    if request.method in WRITES and essence(request.header("content-type")) != "application/json":
        return 415, (f"admin {request.method} requests need 'Content-Type: application/json' "
                     f"(got {request.header('content-type') or 'none'})")
    return None


def _host_name(host: str) -> str:
    """The Host header without its port: `[::1]:8103` -> `[::1]`, `localhost:8103` -> `localhost`."""
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _token_matches(authorization: str | None, token: str) -> bool:
    offered = (authorization or "").removeprefix("Bearer ").strip()
    # header values arrive as latin-1 text; compare the raw bytes so any byte is just a wrong token
    return hmac.compare_digest(offered.encode("latin-1", "replace"), token.encode("utf-8"))
