"""make run's console: every line whole, however many threads print at once."""

from __future__ import annotations

import io
import sys
import threading
from typing import TextIO


def say(*lines: str) -> None:
    # print() writes the newline apart; handlers' log lines, the stream pump and the scheduler print
    # from other threads, and one of theirs could land between a line and its newline.
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    sys.stdout.flush()


class WholeLines(io.TextIOBase):
    """A text stream that passes on only whole lines, each thread's own, one at a time.

    Code we do not own prints from the handlers' threads in pieces: Powertools prints each metrics line
    with print(), which writes the newline apart, so another thread's line could land in between.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._pending = threading.local()

    def write(self, text: str) -> int:
        done, newline, rest = (getattr(self._pending, "text", "") + text).rpartition("\n")
        self._pending.text = rest
        if newline:
            with self._lock:
                self._stream.write(done + newline)
                self._stream.flush()
        return len(text)

    def flush(self) -> None:
        with self._lock:
            self._stream.flush()

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._stream.fileno()


def keep_lines_whole() -> None:
    """From now on, what anything prints to stdout comes out in whole lines (before handlers' loggers
    are made: each keeps the stream it was given)."""
    if not isinstance(sys.stdout, WholeLines):
        sys.stdout = WholeLines(sys.stdout)
