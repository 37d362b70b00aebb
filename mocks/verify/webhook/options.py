"""What a webhook-handler run is asked to do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class HandlerOptions:
    api: str
    url: str
    state_url: str | None = None
    secret: str | None = None
    events: int = 5
    examples: int = 10
    seed: int | None = None
    timeout: float = 10.0
