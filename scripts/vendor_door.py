"""Vendors the door app's third-party JavaScript from the npm registry, pinned by version and digest.

    python -m scripts.vendor_door          # fetch, check and write the files (needs npm)
    python -m scripts.vendor_door --check  # only check the committed files against the pins (no network)

Each package is fetched with `npm pack <name>@<version>`, its file is checked against the sha256 pinned
below (a registry that serves other bytes under the same version fails here, never in a browser) and
written to functions/door/static/ with its licence under functions/door/licences/. VENDORED.md lists
what is there. The app needs no build step: these files are served as they are.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOOR = ROOT / "functions" / "door"
STATIC = DOOR / "static"
LICENCES = DOOR / "licences"


@dataclass(frozen=True)
class Vendored:
    package: str
    version: str
    licence: str
    member: str  # the file inside the package's tarball
    sha256: str  # of that file
    purpose: str

    @property
    def name(self) -> str:
        """The file's name in static/: the version in it, so a new version is a new URL."""
        return f"{self.package.rsplit('/', 1)[-1]}-{self.version}.js"


PACKAGES = [
    Vendored(
        "jsqr",
        "1.4.0",
        "Apache-2.0",
        "package/dist/jsQR.js",
        "bc40c8a15196236b2314db0856f72ca0b49980cd5413b8c852a7349f5fee0859",
        "QR decoder where the browser has no BarcodeDetector",
    ),
    Vendored(
        "@noble/ed25519",
        "3.2.0",
        "MIT",
        "package/index.js",
        "a4f631d1876b5d9e43a86cd71194ca27b5e1451edf4ba4db9a418f40a475569a",
        "Ed25519 signatures where the browser's WebCrypto has none",
    ),
]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(item: Vendored, into: Path) -> tuple[bytes, bytes]:
    """The pinned file and the package's licence text, from the registry."""
    out = subprocess.run(
        ["npm", "pack", f"{item.package}@{item.version}", "--silent", "--pack-destination", str(into)],
        capture_output=True,
        text=True,
        check=True,
    )
    with tarfile.open(into / out.stdout.strip().splitlines()[-1]) as tar:
        files = {member.name: member for member in tar.getmembers()}

        def read(name: str) -> bytes:
            extracted = tar.extractfile(files[name])
            assert extracted is not None, name
            return extracted.read()

        return read(item.member), read("package/LICENSE")


def manifest() -> str:
    lines = [
        "# Vendored JavaScript of the door app",
        "",
        "Written by `python -m scripts.vendor_door` from the npm registry; do not edit by hand.",
        "",
        "| file | package | version | licence | sha256 | why |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| static/{i.name} | {i.package} | {i.version} | {i.licence} (licences/{i.name}.LICENSE) "
        f"| {i.sha256} | {i.purpose} |"
        for i in PACKAGES
    ]
    return "\n".join(lines) + "\n"


def check() -> list[str]:
    """What differs between the committed files and the pins."""
    problems = []
    for item in PACKAGES:
        path = STATIC / item.name
        if not path.exists() or _digest(path.read_bytes()) != item.sha256:
            problems.append(f"static/{item.name} is not {item.package}@{item.version} as pinned")
    if (DOOR / "VENDORED.md").read_text(encoding="utf-8") != manifest():
        problems.append("VENDORED.md is stale")
    return problems


def vendor() -> None:
    LICENCES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for item in PACKAGES:
            code, licence = fetch(item, Path(scratch))
            if _digest(code) != item.sha256:
                sys.exit(f"{item.package}@{item.version}: {item.member} has sha256 {_digest(code)}, not {item.sha256}")
            for old in STATIC.glob(f"{item.name.rsplit('-', 1)[0]}-*.js"):
                old.unlink()
            (STATIC / item.name).write_bytes(code)
            (LICENCES / f"{item.name}.LICENSE").write_bytes(licence)
    (DOOR / "VENDORED.md").write_text(manifest(), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the committed files against the pins")
    if parser.parse_args().check:
        problems = check()
        print("\n".join(problems) or "vendored files match their pins")
        sys.exit(1 if problems else 0)
    vendor()


if __name__ == "__main__":
    main()
