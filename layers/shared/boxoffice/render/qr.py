"""QR codes of signed ticket codes (segno: pure Python, BSD licence)."""

from __future__ import annotations

import io

import segno

# Level M survives a crease or a scratched screen (15 % of the modules). A code is ~260 ASCII characters:
# a version 12 symbol (65 x 65 modules), about 1 mm a module at the PDF's 70 mm. segno scores all eight
# masks and keeps the most readable (~45 ms a symbol, most of a ticket page's render time): worth it at a door.
ERROR_LEVEL = "m"
QUIET_ZONE = 4  # modules of white around the symbol, as ISO/IEC 18004 requires


def _symbol(code: str) -> segno.QRCode:
    return segno.make_qr(code, error=ERROR_LEVEL, boost_error=False)


def svg(code: str) -> str:
    """A standalone SVG document; every module a whole unit, so it scales without blur."""
    out = io.BytesIO()
    _symbol(code).save(out, kind="svg", scale=1, border=QUIET_ZONE, xmldecl=True, title="Ticket QR code")
    return out.getvalue().decode()


def png(code: str, scale: int = 4) -> bytes:
    """A 1-bit PNG, `scale` pixels per module."""
    out = io.BytesIO()
    _symbol(code).save(out, kind="png", scale=scale, border=QUIET_ZONE)
    return out.getvalue()
