"""Which APIs one sandbox serves together, so each console can link to the others."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

if TYPE_CHECKING:
    from mocks.engine import Api

_SANDBOXES: WeakKeyDictionary[Api, tuple[Api, ...]] = WeakKeyDictionary()


def link_sandbox(apis: Iterable[Api]) -> None:
    """Called once the sandbox has bound its ports (base URLs are known then)."""
    together = tuple(apis)
    for api in together:
        _SANDBOXES[api] = together


def console_links(api: Api) -> dict[str, str]:
    """API name -> its console URL, for every API served beside this one (this one included)."""
    links = {}
    for peer in _SANDBOXES.get(api, (api,)):
        url = peer.base_urls.get(peer.primary_listener)
        if url:
            parts = urlsplit(url)
            links[peer.name] = f"{parts.scheme}://{parts.netloc}/__mock/ui/"
    return links
