"""iStockist: creating an order checks its references and computes its totals."""

from __future__ import annotations

from typing import Any

from mocks.exchange import Exchange, Result
from mocks.types import MockError


async def create_order(exchange: Exchange, _: Any) -> Result:
    runtime, scope = exchange.runtime, exchange.scope
    body = exchange.body
    customer = runtime.visible(runtime.resources["customer"], body["customer"], scope)
    if customer is None:
        raise MockError("not_found", f"No such customer: '{body['customer']}'", field="customer")
    lines = []
    for index, item in enumerate(body.get("line_items") or []):
        product = None
        if item.get("product") is not None:
            product = runtime.visible(runtime.resources["product"], item["product"], scope)
            if product is None:
                raise MockError("not_found", f"No such product: '{item['product']}'",
                                field=f"line_items.{index}.product")
        quantity, unit_amount = int(item["quantity"]), int(item["unit_amount"])
        description = item.get("description") or (product["data"].get("name") if product else None)
        lines.append({"product": item.get("product"), "description": description, "quantity": quantity,
                      "unit_amount": unit_amount, "amount": quantity * unit_amount})
    subtotal = sum(line["amount"] for line in lines)
    shipping = int(body.get("amount_shipping") or 0)
    order = {**body, "line_items": lines, "amount_subtotal": subtotal, "amount_shipping": shipping,
             "amount_total": subtotal + shipping, "store": customer["data"].get("store")}
    public = runtime.create(runtime.resources["order"], order, scope, exchange.principal_id, exchange.now)
    return Result(exchange.operation.success_status, public)
