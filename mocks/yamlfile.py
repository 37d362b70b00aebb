"""Read a YAML document with libyaml's parser when PyYAML was built with it (several times faster
than the pure-Python one: contracts and fixtures are parsed at every start-up)."""

from __future__ import annotations

from typing import IO, Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(stream: IO[str] | str) -> Any:
    return yaml.load(stream, Loader=_LOADER)
