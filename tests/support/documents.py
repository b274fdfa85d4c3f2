"""What a buyer receives, read back with independent tools: pypdf for PDFs, zxing-cpp for QR codes."""

from __future__ import annotations

import io
import os
import re
import xml.etree.ElementTree as ET
from typing import Any

import jwt
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from boxoffice import auth
from boxoffice.logic import accounts
from tests.support.bookings import Account
from tests.support.handlers import Api, Result

_serial = iter(range(10**9))


def account_named(name: str) -> Account:
    """An account with its own name (new_account's are all "Booker")."""
    email = f"holder-{next(_serial)}-{os.getpid()}@example.com"
    user = accounts.create_account(name, email, "correct horse battery")
    token, _ = auth.issue_token(user.id, "user", 0)
    return Account(user.id, email, "correct horse battery", token)


def body_bytes(result: Result) -> bytes:
    """A binary answer's bytes (API Gateway carries them base64-encoded)."""
    assert isinstance(result.body, bytes), result.body
    return result.body


def pdf_pages(data: bytes) -> list[Any]:
    return list(PdfReader(io.BytesIO(data)).pages)


def decoded_qr_codes(page: Any) -> list[str]:
    """Every QR code drawn as an image on the page, decoded by zxing-cpp."""
    found = []
    for image in page.images:
        picture = image.image.convert("L")
        found += [r.text for r in zxingcpp.read_barcodes(picture) if r.format == zxingcpp.BarcodeFormat.QRCode]
    return found


def svg_qr_codes(svg: str) -> list[str]:
    """The QR code an SVG draws (segno's form: one path of horizontal runs), rasterised here and decoded."""
    root = ET.fromstring(svg)
    width, height = (int(float(v)) for v in (root.get("width"), root.get("height")))
    path = next(e for e in root.iter() if e.tag.endswith("path"))
    picture = Image.new("L", (width, height), 255)
    x = y = 0.0
    for command, number in re.findall(r"([MmHhVv])\s*([-\d.]+(?:[ ,][-\d.]+)?)", path.get("d", "")):
        values = [float(v) for v in re.split(r"[ ,]", number)]
        if command in "Mm":
            x, y = (values[0], values[1]) if command == "M" else (x + values[0], y + values[1])
        elif command in "Hh":
            end = values[0] if command == "H" else x + values[0]
            for column in range(int(min(x, end)), int(max(x, end))):
                picture.putpixel((column, int(y)), 0)
            x = end
    big = picture.resize((width * 8, height * 8), Image.Resampling.NEAREST)
    return [r.text for r in zxingcpp.read_barcodes(big)]


def verified_with_jwks(api: Api, code: str) -> dict[str, Any]:
    """The code's claims, verified with the published public keys (GET /.well-known/jwks.json) only."""
    keys = {key["kid"]: key for key in api.call("jwks").body["keys"]}
    kid = jwt.get_unverified_header(code)["kid"]
    public = jwt.PyJWK(keys[kid]).key
    claims: dict[str, Any] = jwt.decode(code, public, algorithms=["EdDSA"])
    return claims
