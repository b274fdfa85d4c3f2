"""make run's console keeps lines whole when threads print at once (Powertools prints a metrics line
and its newline in two writes)."""

from __future__ import annotations

import io
import threading

from devserver.console import WholeLines


def in_another_thread(write: str, stream: WholeLines) -> None:
    thread = threading.Thread(target=stream.write, args=(write,))
    thread.start()
    thread.join()


def test_a_line_printed_in_pieces_comes_out_whole_though_another_thread_prints_between() -> None:
    out = io.StringIO()
    console = WholeLines(out)

    print('{"_aws": {}}', end="", file=console)  # print() writes the text ...
    in_another_thread("domain event     BookingConfirmed {}\n", console)
    print(file=console)  # ... and then the newline

    assert out.getvalue().splitlines() == ["domain event     BookingConfirmed {}", '{"_aws": {}}']


def test_several_lines_in_one_write_pass_on_at_once_and_an_unfinished_one_waits() -> None:
    out = io.StringIO()
    console = WholeLines(out)

    console.write("one\ntwo\nthr")
    assert out.getvalue() == "one\ntwo\n"
    console.write("ee\n")
    assert out.getvalue() == "one\ntwo\nthree\n"
