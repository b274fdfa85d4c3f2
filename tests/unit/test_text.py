"""Text folding: what search and venue matching count as the same word or venue."""

from __future__ import annotations

from boxoffice.text import fold, venue_key, words


def test_folding_ignores_case_and_accents() -> None:
    assert fold("Beethóven CAFÉ ß Ｆｕｌｌ") == "beethoven cafe ss full"
    assert words("Nuit de Fauré — l'été, 2031!") == ["nuit", "de", "faure", "l", "ete", "2031"]
    assert words("Bach bach BACH") == ["bach"]
    assert words("<script>x</script>") == ["script", "x"]
    assert words("🎻 ... ") == []


def test_venue_key_ignores_case_accents_and_runs_of_spaces() -> None:
    assert venue_key("  Salle   PLEYEL ") == venue_key("salle pleyel") == "salle pleyel"
    assert venue_key("Théâtre du Châtelet") == "theatre du chatelet"
