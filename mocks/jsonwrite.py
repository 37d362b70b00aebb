"""JSON out: every response and webhook body. orjson where installed (~15x faster than the standard
library on a typical resource), the standard library for what orjson refuses or where it is missing.

Both write compact UTF-8 JSON with the keys in insertion order, so clients see the same documents.
The optional orjson is imported here once; `media.load_json` reads bodies with it too.
"""

from __future__ import annotations

import json
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency wherever it builds
    orjson = None


def _standard(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def dump_json(value: Any) -> bytes:
    if orjson is None:
        return _standard(value)
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # integers beyond 64 bits, str subclasses with odd hashes...: the slow path still writes them
        return _standard(value)
