"""The README's parts, for the tests that keep it true: its sections, its code blocks, its links."""

from __future__ import annotations

import re

from devserver import template

README = template.ROOT / "README.md"


def text() -> str:
    return README.read_text(encoding="utf-8")


def headings() -> list[str]:
    """Every heading line ("## A quick tour"), in order; a shell comment in a code block is none."""
    found, fenced = [], False
    for line in text().splitlines():
        fenced ^= line.startswith("```")
        if not fenced and re.match(r"#+ ", line):
            found.append(line)
    return found


def section(heading: str) -> str:
    """The text under `heading` up to the next heading of its level or above."""
    level = len(heading.split(" ", 1)[0])
    after = headings()[headings().index(heading) + 1 :]
    end = next((h for h in after if len(h.split(" ", 1)[0]) <= level), None)
    body = text().split(f"\n{heading}\n", 1)[1]
    return body.split(f"\n{end}\n", 1)[0] if end else body


def code_blocks(markdown: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", markdown, flags=re.MULTILINE | re.DOTALL)


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
