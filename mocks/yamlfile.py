"""Read a YAML file, parsed once per content.

Building Python objects from YAML is most of a one-API start-up (~100 ms for a contract and its
fixtures, even with libyaml's parser), so what a file parses to is kept in a cache folder, keyed by
a digest of its bytes: an edited file is a new key, and nothing is ever stale. Reading a cached
document is `marshal.loads`, a few milliseconds. A document marshal cannot hold (a YAML timestamp
parses to a `datetime`) and a cache folder that cannot be written are simply not cached.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import tempfile
from pathlib import Path
from typing import IO, Any

CACHE_ENV = "MOCKS_CACHE_DIR"  # a folder, or "off"
_FORMAT = b"yaml-marshal-1"  # part of every key: a change of what is cached is a new key


def load_yaml(stream: IO[str] | str) -> Any:
    import yaml  # only on a cache miss: PyYAML's import alone is ~30 ms of start-up

    return yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_yaml_file(path: str | os.PathLike[str]) -> Any:
    text = Path(path).read_bytes()
    folder = cache_folder()
    if folder is None:
        return load_yaml(text.decode("utf-8"))
    key = hashlib.blake2b(text, digest_size=20, person=_FORMAT[:16]).hexdigest()
    cached = folder / f"{key}.marshal"
    try:
        return marshal.loads(cached.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        pass  # not cached yet, or a torn or foreign file: parse it again
    document = load_yaml(text.decode("utf-8"))
    _store(cached, document)
    return document


def cache_folder() -> Path | None:
    chosen = os.environ.get(CACHE_ENV)
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "commerce-api-sandbox" / "yaml"


def _store(cached: Path, document: Any) -> None:
    try:
        data = marshal.dumps(document)
    except ValueError:
        return  # holds something marshal cannot (a datetime): parsed at every start-up
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        # written whole under another name, then renamed: a reader never sees half a file
        handle, temporary = tempfile.mkstemp(dir=cached.parent, suffix=".tmp")
    except OSError:
        return  # a read-only disk or a home-less user: the sandbox runs as well without the cache
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, cached)
    except OSError:  # a full disk
        Path(temporary).unlink(missing_ok=True)
