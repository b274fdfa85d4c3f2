"""The README as a newcomer reads it: what it is and the two commands first, links that lead somewhere,
every setting `make run` reads in its table, and the API table saying what the models say."""

from __future__ import annotations

import re

from boxoffice.models.stats import TicketTypeStats
from devserver import template
from tests.support import readme


def test_it_opens_with_what_it_is_and_the_two_commands_then_the_tour() -> None:
    opening = readme.text().split("\n## ", 1)[0]
    (commands,) = readme.code_blocks(opening, "sh")
    assert [line.split("#")[0].strip() for line in commands.splitlines()] == ["make run", "make test"]
    assert opening.index("serverless") < opening.index("make run")
    order = ["## A quick tour", "## The API at a glance", "## How it works", "## Settings"]
    assert [h for h in readme.headings() if h in order] == order


def test_every_relative_link_and_anchor_leads_somewhere() -> None:
    anchors = {readme.anchor(h.split(" ", 1)[1]) for h in readme.headings()}
    for target in re.findall(r"\]\(([^)]+)\)", readme.text()):
        if target.startswith(("http://", "https://")):
            continue
        path, _, fragment = target.partition("#")
        if path:
            assert (template.ROOT / path).exists(), target
        else:
            assert fragment in anchors, target


def test_every_variable_make_run_reads_is_in_the_settings_table() -> None:
    source = "".join((template.ROOT / "devserver" / name).read_text() for name in ("__main__.py", "runtime.py"))
    read = set(re.findall(r"os\.environ(?:\.get\(|\[)\"([A-Z_]+)\"", source))
    for names in re.findall(r"for name in \(([^)]*)\)", source):
        read |= set(re.findall(r"\"([A-Z_]+)\"", names))
    read -= {"AWS_DEFAULT_REGION"}  # moto's region: any will do locally
    rows = [line for line in readme.section("## Settings").splitlines() if line.startswith("| `")]
    names = set(re.findall(r"`([A-Z_]+)`", "\n".join(row.split("|")[1] for row in rows)))
    assert read - names == set()


def test_the_stats_row_names_each_ticket_types_fields_as_the_model_has_them() -> None:
    (row,) = [line for line in readme.text().splitlines() if line.startswith("| `GET /events/{event_id}/stats`")]
    per_type = re.search(r"ticket_types: \[\{([^}]*)\}\]", row)
    assert per_type is not None, row
    assert [f.strip() for f in per_type.group(1).split(",")] == list(TicketTypeStats.model_fields)
