"""The collector as a serving process sets it (mocks/heap.py): survivors of a full collection are
frozen, so the next walks only what came since; a thorough collection frees cyclic garbage among
frozen objects, and runs by itself once the process is idle. Each check runs in a fresh interpreter:
freezing is process-wide."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=False, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_survivors_of_any_collection_are_frozen():
    out = run("""
        import gc
        from mocks.heap import settle_after_start_up
        settle_after_start_up()
        before = gc.get_freeze_count()
        kept = [{"record": [i]} for i in range(5000)]  # tracked containers that survive
        gc.collect(0)  # a young collection
        print(gc.get_freeze_count() - before)
    """)
    assert int(out) >= 10000  # each dict and its list


def test_a_full_collection_walks_only_what_arrived_since_the_last():
    out = run("""
        import gc
        from mocks.heap import settle_after_start_up
        settle_after_start_up()
        kept = [{"record": [i]} for i in range(50000)]
        gc.collect()
        later = [{"record": [i]} for i in range(10)]
        gc.collect()
        print(len(gc.get_objects(generation=2)))  # what the last full collection left to walk next time
    """)
    assert int(out) < 1000


def test_cyclic_garbage_among_frozen_objects_is_freed_by_a_thorough_collection():
    out = run("""
        import gc, weakref
        from mocks.heap import settle_after_start_up, thorough_collection
        settle_after_start_up()
        class Node: pass
        node = Node(); node.me = node  # a cycle, only the collector can free it
        alive = weakref.ref(node)
        gc.collect()  # it survives (still referenced) and is frozen
        del node
        gc.collect()
        print(alive() is not None)
        thorough_collection()
        print(alive() is not None)
        from mocks import heap
        print(heap._freezer.frozen_since_thorough)  # so an idle sandbox does not walk everything again
    """)
    assert out.split() == ["True", "False", "0"]


def test_an_idle_process_collects_thoroughly_by_itself():
    out = run("""
        import asyncio, gc, weakref
        from mocks.heap import collect_when_idle, settle_after_start_up
        settle_after_start_up()
        class Node: pass
        node = Node(); node.me = node
        alive = weakref.ref(node)
        gc.collect()
        del node
        served = [0]

        async def main():
            collecting = asyncio.get_running_loop().create_task(collect_when_idle(lambda: served[0], idle=0.05))
            for _ in range(6):  # busy: a request served every tick, nothing thorough yet
                served[0] += 1
                await asyncio.sleep(0.02)
            busy = alive() is not None
            await asyncio.sleep(0.3)  # then idle
            collecting.cancel()
            print(busy, alive() is not None)

        asyncio.run(main())
    """)
    assert out.split() == ["True", "False"]
