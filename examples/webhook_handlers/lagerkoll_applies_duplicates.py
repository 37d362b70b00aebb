"""Buggy Lagerkoll callback handler: a callback delivered twice is applied twice.

    uvicorn --app-dir examples/webhook_handlers lagerkoll_applies_duplicates:app --port 9001
"""

from __future__ import annotations

from typing import Any

from lagerkoll_handler import CallbackLog, create_app


class EveryCallbackLog(CallbackLog):
    def key(self, payload: dict[str, Any]) -> str:
        # BUG: every delivery gets a key of its own, so a retried callback is applied again.
        return str(len(self.applied))


app = create_app(EveryCallbackLog())
