"""PDF tickets (fpdf2, LGPL-3.0): one A4 page per ticket, its QR code, the event, the holder.

Text is set in DejaVu Sans (a subset: Latin, Greek, Cyrillic, Hebrew, Arabic; free licence in fonts/LICENSE),
embedded, so a name in any of those scripts prints as written. A character the font lacks (CJK, emoji)
prints as U+FFFD, visibly replaced rather than dropped; the e-mail that carries the PDF spells the name in
full. Hebrew and Arabic are ordered right to left by fpdf2's bidi algorithm, though Arabic letters are not
joined (that needs HarfBuzz, a native library this layer leaves out).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from fpdf import FPDF

from boxoffice.render import TicketPage, local_time, qr

FONT = Path(__file__).resolve().parent / "fonts" / "DejaVuSans.ttf"
FAMILY = "DejaVu"
REPLACEMENT = "\ufffd"
QR_MM = 70  # printed size: well above the ~2 cm a phone needs at arm's length


@cache
def _glyphs() -> frozenset[int]:
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped] # fpdf2's own dependency: the font's map

    with TTFont(FONT, lazy=True) as font:
        return frozenset(font.getBestCmap())


def printable(text: str) -> str:
    """`text` with every character the font cannot draw replaced by U+FFFD; control characters as spaces."""
    glyphs = _glyphs()
    return "".join(" " if not c.isprintable() else c if ord(c) in glyphs else REPLACEMENT for c in text)


class _Sheet(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4", unit="mm")
        self.set_auto_page_break(auto=True, margin=15)
        self.set_creator("boxoffice")
        with warnings.catch_warnings():  # fpdf2 warns about the font's subset tables it drops; nothing to act on
            warnings.simplefilter("ignore")
            self.add_font(FAMILY, fname=str(FONT))
        self.set_font(FAMILY, size=12)

    def line_of(self, label: str, value: str, size: int = 12) -> None:
        self.set_font(FAMILY, size=9)
        self.set_text_color(110)
        self.cell(0, 5, label.upper(), new_x="LMARGIN", new_y="NEXT")
        self.set_font(FAMILY, size=size)
        self.set_text_color(0)
        self.multi_cell(0, size * 0.5, printable(value), align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(3)


def tickets_pdf(pages: Sequence[TicketPage], *, booking_id: str, notice: str) -> bytes:
    """One page per ticket; with none, a single page that says `notice` (a cancelled booking's PDF)."""
    sheet = _Sheet()
    sheet.set_title(printable(pages[0].event_name) if pages else "Tickets")
    for page in pages:
        sheet.add_page()
        sheet.set_font(FAMILY, size=22)
        sheet.multi_cell(0, 10, printable(page.event_name), align="L", new_x="LMARGIN", new_y="NEXT")
        sheet.ln(4)
        top = sheet.get_y()
        sheet.image(io.BytesIO(qr.png(page.code)), x=sheet.w - sheet.r_margin - QR_MM, y=top, w=QR_MM, h=QR_MM)
        sheet.set_right_margin(sheet.r_margin + QR_MM + 8)
        sheet.line_of("When", local_time(page.starts_at, page.timezone), size=14)
        sheet.line_of("Where", page.venue, size=14)
        sheet.line_of("Ticket", page.ticket_type)
        sheet.line_of("Holder", page.holder)
        sheet.set_right_margin(15)
        sheet.set_y(max(sheet.get_y(), top + QR_MM) + 6)
        sheet.line_of("Ticket number", page.ticket_number, size=16)
        sheet.set_font(FAMILY, size=9)
        sheet.set_text_color(110)
        sheet.multi_cell(
            0,
            4.5,
            f"Booking {booking_id}. Show this page, printed or on a screen, at the door: the QR code is "
            "checked once, so a copy lets only one person in.",
            align="L",
        )
    if not pages:
        sheet.add_page()
        sheet.line_of("Booking", booking_id)
        sheet.line_of("Tickets", notice)
    return bytes(sheet.output())
