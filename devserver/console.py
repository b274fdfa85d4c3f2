"""make run's console: every line in one write, so lines printed from other threads never split it."""

from __future__ import annotations

import sys


def say(*lines: str) -> None:
    # print() writes the newline apart; handlers' log lines, the stream pump and the scheduler print
    # from other threads, and one of theirs could land between a line and its newline.
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    sys.stdout.flush()
