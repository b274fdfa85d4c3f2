"""Wrong promo codes per account (store/code_guesses.py): a burst is held to the limit, a full window
refuses right codes too (in the booking's transaction), and a new window opens when the last is over."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from boxoffice.errors import TooManyWrongCodes
from boxoffice.store import code_guesses
from boxoffice.store.dynamo import Failed, Transaction, bookings_table, get
from tests.support.fixtures import serialised_moto

LIMITS = code_guesses.Limits(window=900, wrong=10)
T0 = 1_800_000_000


def guess(user_id: str, now: int) -> int | None:
    """Count a wrong code: None when counted, else the 429's Retry-After."""
    try:
        code_guesses.count_wrong(user_id, now, LIMITS)
    except TooManyWrongCodes as exc:
        return int(exc.extra["retry_after"])
    return None


def may_use_a_code(user_id: str, now: int) -> int | None:
    """A transaction holding only the booking's check: None when it commits, else the 429's Retry-After."""
    try:
        Transaction().add("guesses", code_guesses.open_check(user_id, now, LIMITS)).commit()
    except Failed as exc:
        current = exc.old("guesses")
        assert current is not None
        return int(code_guesses.refusal(current, now, LIMITS).extra["retry_after"])
    return None


def test_a_burst_of_parallel_wrong_codes_is_held_to_the_limit() -> None:
    with serialised_moto("guesses"), ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda n: guess("mallory", T0), range(40)))
        stored = get(bookings_table(), code_guesses.key("mallory"))
    assert answers.count(None) == 10
    assert sorted(a for a in answers if a is not None) == [900] * 30
    assert stored is not None
    assert int(stored["wrong"]) == 10


def test_a_full_window_refuses_right_codes_too_until_it_ends(aws: None) -> None:
    assert may_use_a_code("ada", T0) is None  # no item yet
    for n in range(10):
        assert guess("ada", T0 + n) is None
    assert guess("ada", T0 + 100) == 800
    assert may_use_a_code("ada", T0 + 100) == 800
    assert may_use_a_code("bob", T0 + 100) is None  # per account
    # The window ends 900 s after its first wrong code: then a new one opens with this code in it.
    assert may_use_a_code("ada", T0 + 900) is None
    assert guess("ada", T0 + 900) is None
    stored = get(bookings_table(), code_guesses.key("ada"))
    assert stored is not None
    assert (int(stored["window_start"]), int(stored["wrong"])) == (T0 + 900, 1)


@pytest.mark.parametrize("wrong_before", [0, 9])
def test_a_window_with_room_lets_a_code_be_used(aws: None, wrong_before: int) -> None:
    for n in range(wrong_before):
        guess("ada", T0 + n)
    assert may_use_a_code("ada", T0 + 60) is None
