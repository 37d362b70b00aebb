"""`mocks verify-webhook-handler`: duplicated, reordered and badly signed deliveries to a handler."""

from mocks.verify.webhook.command import (
    ACKNOWLEDGES,
    ONCE,
    REJECTS,
    HandlerOptions,
    run_cli,
    verify_webhook_handler,
)

__all__ = ["ACKNOWLEDGES", "ONCE", "REJECTS", "HandlerOptions", "run_cli", "verify_webhook_handler"]
