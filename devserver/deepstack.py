"""Threads whose call stacks do not map and unmap memory on every call.

CPython (3.11 to 3.13 at least) keeps a thread's Python frames in chunks of 16 KiB, each mapped with mmap
when a frame does not fit in the chunk below and unmapped as soon as the frame that opened it returns. A
stack as deep as a request's here (HTTP server, Powertools, botocore, moto) that goes up and down across a
chunk's edge maps and unmaps a chunk on every call there: ~7,000 mmap/munmap pairs a test, a fifth of the
test suite's CPU time spent in the kernel. A frame far larger than a chunk, opened once at the bottom of a
thread, gets a chunk of its own with room for every frame above it: then nothing is mapped until it returns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# Local variables of the bottom frame (8 bytes each): 64 KiB, so its chunk is 128 KiB and leaves ~64 KiB
# (a few hundred frames) above it.
_SLOTS = 8192


def _deep_runner() -> Callable[..., Any]:
    names = " = ".join(f"_{n}" for n in range(_SLOTS))
    source = f"def run(fn, *args, **kwargs):\n    {names} = None\n    return fn(*args, **kwargs)\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, "<deepstack>", "exec"), namespace)  # noqa: S102 - generated above, no input
    runner: Callable[..., Any] = namespace["run"]
    return runner


run_deep: Callable[..., Any] = _deep_runner()
_thread_run = threading.Thread.run


def _run(self: threading.Thread) -> None:
    run_deep(_thread_run, self)


def install() -> None:
    """Every thread started from now on in this process runs on a deep bottom frame. Idempotent."""
    threading.Thread.run = _run  # type: ignore[method-assign]
