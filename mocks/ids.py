"""Random ids: every id the sandbox mints at random (records, events, webhook deliveries, delivery
workers, the pytest plugin's namespaces) comes from here. Tokens it hands clients as credentials
come from `secrets`, and the verifier's ids from its seeded generator, so a run can be replayed.

`uuid.uuid4()` asks the kernel for 16 bytes on every call. On a created record that system call
was the largest single cost of the POST path (~4 % of a request's time over HTTP). The same
kernel randomness (`os.urandom`) is taken 4 KiB at a time instead and cut into ids, so the ids
stay as unpredictable as uuid4's. `list.pop` hands each 16-byte piece out once, even to several
threads at a time; a forked child throws its parent's pieces away, so two processes never mint
the same id.
"""

from __future__ import annotations

import os

_PIECE = 16
_BATCH = 256  # pieces per read of the kernel's randomness

_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}

_pieces: list[bytes] = []


def random_piece() -> bytes:
    """16 bytes from the kernel's randomness, never handed out twice."""
    try:
        return _pieces.pop()
    except IndexError:
        block = os.urandom(_PIECE * _BATCH)
        _pieces.extend(block[start:start + _PIECE] for start in range(_PIECE, len(block), _PIECE))
        return block[:_PIECE]


def uuid4_text() -> str:
    """A random (version 4) UUID as `str(uuid.uuid4())` writes it."""
    return version_4_text(random_piece())


def version_4_text(piece: bytes) -> str:
    """`str(uuid.UUID(bytes=piece, version=4))`, without making the UUID."""
    hexed = piece.hex()
    # as uuid.UUID(version=4) sets them: version digit 4, and the RFC 4122 variant (top bits 10),
    # which makes the 17th digit one of 8, 9, a, b
    return f"{hexed[:8]}-{hexed[8:12]}-4{hexed[13:16]}-{_VARIANT[hexed[16]]}{hexed[17:20]}-{hexed[20:]}"


def random_hex(size: int) -> str:
    """`size` (at most 16) random bytes as hex, as `secrets.token_hex(size)` writes them."""
    return random_piece()[:size].hex()


os.register_at_fork(after_in_child=_pieces.clear)
