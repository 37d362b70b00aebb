"""The examples an operation declares for a response: the first one, or one by name."""

from __future__ import annotations

from typing import Any

from mocks.contract import Contract, Operation
from mocks.types import MockError


def first_example(contract: Contract, operation: Operation, status: int) -> Any:
    response = operation.response(status) or {}
    for media in (response.get("content") or {}).values():
        for example in (media.get("examples") or {}).values():
            return contract.resolve(example).get("value")
        if "example" in media:
            return media["example"]
    return None


def named_example(contract: Contract, operation: Operation, status: int, name: str | None) -> Any:
    """The example `name` of the response `status` (a `Prefer: example=` header), else the first one."""
    response = operation.response(status) or {}
    for media in (response.get("content") or {}).values():
        examples = media.get("examples") or {}
        if name is not None and name in examples:
            return contract.resolve(examples[name]).get("value")
    if name is not None:
        raise MockError("invalid_request", f"no example '{name}' for status {status} of {operation.id}",
                        field="Prefer")
    return first_example(contract, operation, status)
