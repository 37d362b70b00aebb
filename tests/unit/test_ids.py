"""Random ids: uuid4's text and randomness, minted from a pooled read of the kernel's randomness."""

from __future__ import annotations

import os
import re
import threading
import uuid

from hypothesis import given
from hypothesis import strategies as st

from mocks import ids

UUID4_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@given(st.binary(min_size=16, max_size=16))
def test_a_piece_is_written_as_uuid_writes_a_version_4_uuid(piece):
    assert ids.version_4_text(piece) == str(uuid.UUID(bytes=piece, version=4))


def test_ids_are_version_4_uuids_and_never_repeat_across_refills():
    minted = [ids.uuid4_text() for _ in range(3 * ids._BATCH + 7)]  # several reads of the kernel's randomness
    assert all(UUID4_TEXT.fullmatch(text) for text in minted)
    assert all(uuid.UUID(text).version == 4 for text in minted)
    assert len(set(minted)) == len(minted)


def test_random_hex_is_as_long_as_token_hex_would_write_it():
    texts = {ids.random_hex(12) for _ in range(100)}
    assert len(texts) == 100
    assert all(re.fullmatch(r"[0-9a-f]{24}", text) for text in texts)


def test_threads_minting_at_once_never_share_an_id():
    minted: list[list[str]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def mint(into: list[str]) -> None:
        start.wait()
        into.extend(ids.uuid4_text() for _ in range(2 * ids._BATCH))

    threads = [threading.Thread(target=mint, args=(into,)) for into in minted]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [text for into in minted for text in into]
    assert len(set(everything)) == len(everything) == 8 * ids._BATCH


def test_a_forked_child_does_not_mint_its_parents_next_id():
    ids.uuid4_text()  # the pool holds pieces the child would otherwise inherit
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(writing, ids.uuid4_text().encode())
        os._exit(0)
    os.close(writing)
    try:
        childs = os.read(reading, 64).decode()
    finally:
        os.close(reading)
        os.waitpid(child, 0)
    assert UUID4_TEXT.fullmatch(childs)
    assert ids.uuid4_text() != childs
