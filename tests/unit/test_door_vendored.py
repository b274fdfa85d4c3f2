"""The door app's vendored JavaScript is exactly what scripts/vendor_door.py pins (version and sha256)."""

from pathlib import Path

import pytest

from scripts import vendor_door


def test_the_vendored_files_match_their_pins_and_their_manifest() -> None:
    assert vendor_door.check() == []


def test_a_changed_vendored_file_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for item in vendor_door.PACKAGES:
        (tmp_path / item.name).write_bytes((vendor_door.STATIC / item.name).read_bytes())
    first = vendor_door.PACKAGES[0]
    (tmp_path / first.name).write_bytes((tmp_path / first.name).read_bytes() + b"\n// changed")
    monkeypatch.setattr(vendor_door, "STATIC", tmp_path)
    assert vendor_door.check() == [f"static/{first.name} is not {first.package}@{first.version} as pinned"]
