"""Lagerkoll: executing a webhook POSTs the request's body to the webhook's url, through the delivery engine."""

from __future__ import annotations

from mocks.exchange import Exchange, Result
from mocks.media import dump_json


async def execute_webhook(exchange: Exchange, record: dict) -> Result:
    webhook = record["data"]
    delivery = exchange.runtime.deliveries.enqueue(
        webhook["url"], dump_json(exchange.body if exchange.body is not None else {}),
        {"Content-Type": "application/json", "User-Agent": "lagerkoll-mock-webhooks/1",
         "X-Lagerkoll-Webhook-Guid": str(webhook["guid"])},
        event_type=f"{webhook.get('featureId')}.{webhook.get('featureMethod')}", source=f"webhook:{webhook['id']}",
    )
    return Result(exchange.operation.success_status, {
        "executed": True, "guid": webhook["guid"], "webhookId": webhook["id"], "featureId": webhook.get("featureId"),
        "url": webhook["url"], "deliveryId": delivery.id,
    })
