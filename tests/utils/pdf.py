"""Reading rendered PDFs in tests (pypdf, a test-only dependency), and images to embed."""

import io

from PIL import Image
from pypdf import PdfReader


def image_bytes(kind: str = "PNG", size=(40, 20)) -> bytes:
    """A small red image in ``kind`` (a Pillow format name)."""
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, kind)
    return buffer.getvalue()


def pdf_pages(content: bytes) -> list[str]:
    """Each page's text as a PDF reader extracts it, no-break spaces as spaces."""
    reader = PdfReader(io.BytesIO(content))
    return [
        page.extract_text().replace("\u00a0", " ").replace("\u202f", " ") for page in reader.pages
    ]


def plain(text: str) -> str:
    """``text`` with no-break spaces as spaces, to compare with extracted text."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")
