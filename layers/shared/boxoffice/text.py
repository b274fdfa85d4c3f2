"""Text folding: one definition of "the same word" and "the same venue" for the index writer, the query
reader and the validation of what may be stored (models, logic and store all import it)."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+")
MAX_KEY_BYTES = 2000  # DynamoDB's limit on a partition key is 2048 bytes; the store adds a short prefix.
MAX_NAME_KEY_BYTES = 1000  # a ticket type's folded name is part of a sort key (1024 bytes at most)


def fold(text: str) -> str:
    """Case- and accent-insensitive form: "Beethoven Café" -> "beethoven cafe"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The distinct folded words of a text, in order of appearance."""
    return list(dict.fromkeys(_WORD.findall(fold(text))))


def venue_key(venue: str) -> str:
    """Venues match as a whole, ignoring case, accents and runs of spaces.

    The key is a DynamoDB partition key (2048 bytes at most), and folding can multiply a text's size
    (NFKD spells "\ufdfa" as 18 letters, 33 bytes), so a venue whose key would not fit is refused.
    """
    key = " ".join(fold(venue).split())
    if len(key.encode()) > MAX_KEY_BYTES:
        raise ValueError(f"is too long once folded for search (over {MAX_KEY_BYTES} bytes)")
    return key
