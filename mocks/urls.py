"""One owner for "the origin of a URL": where a listener's admin API lives, what a served URL's host is."""

from __future__ import annotations

from urllib.parse import urlsplit


def origin_of(url: str) -> str:
    """`http://localhost:8080/v1/x` -> `http://localhost:8080` (scheme and authority, no path)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def admin_url(base_url: str) -> str:
    """Where the admin API of the API served at `base_url` lives: its origin (the route prefix is not
    part of it: `/__mock/` sits at the root of the primary listener)."""
    return origin_of(base_url)
