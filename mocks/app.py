"""`build_app`, beside the ASGI adapter: one API served in-process, with every admin route registered.

The adapter itself is `mocks.asgi.MockApp` (re-exported here). Importing this module imports every
admin route module, so they register in the admin table: the sandbox's own routes (`admin.sandbox`,
`admin.steer`), the console's, HAR and snapshots.
"""

from __future__ import annotations

import mocks.admin.sandbox
import mocks.admin.steer
import mocks.console.routes
import mocks.console.stream
import mocks.har
import mocks.snapshot  # noqa: F401  (each import registers admin routes)
from mocks.asgi import CONNECTION_EXTENSION, MockApp
from mocks.clock import Clock

__all__ = ["CONNECTION_EXTENSION", "MockApp", "build_app"]


def build_app(name: str, *, listener: str | None = None, admin: bool = True, admin_token: str | None = None,
              store: str = "memory", clock: Clock | None = None) -> MockApp:
    """An ASGI app serving one API (its primary listener unless named): what tests mount in-process."""
    from mocks.registry import load_api

    api = load_api(name, store=store, clock=clock)
    return MockApp(api, listener or api.primary_listener, admin=admin, admin_token=admin_token)
