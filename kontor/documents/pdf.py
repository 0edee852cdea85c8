"""Commercial documents (quotes, later invoices) rendered to PDF with fpdf2.

The input is plain dataclasses, so the renderer knows no model: a caller (a deal's quote)
builds a ``CommercialDocument`` from its rows, the seller from
``kontor.documents.services.seller()`` and the totals from ``kontor.core.money``, and
gets the PDF's bytes. Labels are translated and amounts formatted in the ``language``
passed in; the text is set in DejaVu Sans (``KONTOR_PDF_FONT_DIR``), which covers Latin,
accents and Cyrillic.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy
from fpdf import FPDF, FontFace
from PIL import Image

from kontor.core import money

# Titles a caller may pass, translated in the document's language when it renders.
QUOTE = pgettext_lazy("document title", "Quote")

FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FONT = "DejaVu"
PAGE_MARGIN = 15  # mm
LOGO_HEIGHT = 18  # mm
LOGO_MAX_WIDTH = 70  # mm
# Description, quantity, unit, unit price, discount, VAT, net: widths in mm (180 in all).
LINE_COLUMNS = (8, 60, 17, 14, 25, 16, 14, 26)
GREY = (235, 235, 235)
CELL_PADDING = 1  # mm
# A table row never splits across pages: a longer description continues in further rows.
ROW_MAX_LINES = 30


class PdfFontMissing(ImproperlyConfigured):
    """The font files are not where ``KONTOR_PDF_FONT_DIR`` says."""


@dataclass(frozen=True)
class Seller:
    """The issuing company (kontor.documents.services.seller())."""

    name: str
    address: str = ""
    tax_number: str = ""
    vat_id: str = ""
    registration_number: str = ""
    bank_name: str = ""
    iban: str = ""
    bic: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    logo: bytes | None = None  # PNG or JPEG, validated when stored


@dataclass(frozen=True)
class Buyer:
    name: str
    address: str = ""  # one line per row
    vat_id: str = ""


@dataclass(frozen=True)
class DocumentLine:
    """One line as printed; ``totals`` from ``money.line_totals`` holds its figures."""

    description: str
    unit: str
    totals: money.LineTotals


@dataclass(frozen=True)
class CommercialDocument:
    title: str  # e.g. QUOTE; a lazy translation is resolved in the document's language
    number: str
    date: datetime.date
    seller: Seller
    buyer: Buyer
    currency: str
    lines: tuple[DocumentLine, ...]
    totals: money.DocumentTotals  # money.document_totals of the lines' totals
    valid_until: datetime.date | None = None
    notes: str = ""


def font_paths() -> dict[str, Path]:
    """The TrueType files by style; PdfFontMissing names the one missing and the remedy."""
    folder = Path(settings.KONTOR_PDF_FONT_DIR)
    paths = {style: folder / name for style, name in FONT_FILES.items()}
    for path in paths.values():
        if not path.is_file():
            raise PdfFontMissing(
                f"The PDF font {path} is missing: install Debian's fonts-dejavu-core "
                "(apt-get install fonts-dejavu-core) or set KONTOR_PDF_FONT_DIR to a folder "
                f"holding {', '.join(FONT_FILES.values())}."
            )
    return paths


def _labelled(label: str, value: str) -> str:
    # A pattern, not a colon in code: French puts a space before it.
    return _("%(label)s: %(value)s") % {"label": label, "value": value}


def _date(value: datetime.date) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT", use_l10n=True)


class _Pdf(FPDF):
    """FPDF with the document's running header (from page 2) and page numbers."""

    def __init__(self, running_title: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.running_title = running_title
        # Built now, in the document's language; "{nb}" is fpdf2's alias for the page count.
        self.page_label = _("Page %(page)s of %(pages)s") % {"page": "{page}", "pages": "{nb}"}

    def header(self):
        if self.page_no() > 1:
            self.set_font(FONT, "", 8)
            self.cell(0, 5, self.running_title, new_x="LMARGIN", new_y="NEXT")
            self.ln(2)

    def footer(self):
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.cell(0, 5, self.page_label.replace("{page}", str(self.page_no())), align="R")


def render_pdf(document: CommercialDocument, *, language: str) -> bytes:
    """The document as PDF bytes, labels and numbers in ``language`` ("en", "ru", "fr").

    Raises ValueError if ``document.totals`` are not the totals of its lines (a PDF never
    shows figures that do not add up), PdfFontMissing without the font.
    """
    if money.document_totals(line.totals for line in document.lines) != document.totals:
        raise ValueError("The document's totals are not those of its lines.")
    fonts = font_paths()
    with translation.override(language):
        title = str(document.title)
        heading = _("%(title)s No. %(number)s") % {"title": title, "number": document.number}
        pdf = _Pdf(f"{heading} · {document.seller.name}")
        for style, path in fonts.items():
            pdf.add_font(FONT, style, str(path))
        pdf.set_margins(PAGE_MARGIN, PAGE_MARGIN, PAGE_MARGIN)
        pdf.set_auto_page_break(True, margin=18)
        pdf.set_title(heading)
        pdf.set_author(document.seller.name)
        pdf.set_creator("Kontor")
        pdf.set_lang(language)
        pdf.add_page()
        _seller_block(pdf, document.seller)
        _title_block(pdf, document, heading)
        _buyer_block(pdf, document.buyer)
        _lines_table(pdf, document)
        _totals_block(pdf, document)
        _notes_block(pdf, document)
        return bytes(pdf.output())


def _seller_block(pdf: _Pdf, seller: Seller) -> None:
    top = pdf.get_y()
    if seller.logo:
        with Image.open(io.BytesIO(seller.logo)) as image:
            width_px, height_px = image.size
        width = LOGO_HEIGHT * width_px / height_px
        if width > LOGO_MAX_WIDTH:
            pdf.image(io.BytesIO(seller.logo), x=PAGE_MARGIN, y=top, w=LOGO_MAX_WIDTH)
        else:
            pdf.image(io.BytesIO(seller.logo), x=PAGE_MARGIN, y=top, h=LOGO_HEIGHT)
    column = 95
    pdf.set_xy(pdf.w - PAGE_MARGIN - column, top)
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(column, 5, seller.name, align="R", new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT, "", 8)
    rows = [*seller.address.splitlines()]
    for label, value in (
        (_("Tax number"), seller.tax_number),
        (_("VAT ID"), seller.vat_id),
        (_("Registration number"), seller.registration_number),
        (_("Phone"), seller.phone),
        (_("Email"), seller.email),
        (_("Website"), seller.website),
    ):
        if value:
            rows.append(_labelled(label, value))
    for row in rows:
        pdf.multi_cell(column, 4, row, align="R", new_x="LEFT", new_y="NEXT")
    pdf.set_x(PAGE_MARGIN)
    pdf.set_y(max(pdf.get_y(), top + (LOGO_HEIGHT if seller.logo else 0)) + 6)


def _title_block(pdf: _Pdf, document: CommercialDocument, heading: str) -> None:
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    pdf.cell(0, 5, _labelled(_("Date"), _date(document.date)), new_x="LMARGIN", new_y="NEXT")
    if document.valid_until:
        valid = _labelled(_("Valid until"), _date(document.valid_until))
        pdf.cell(0, 5, valid, new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, _labelled(_("Currency"), document.currency), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _buyer_block(pdf: _Pdf, buyer: Buyer) -> None:
    pdf.set_font(FONT, "B", 9)
    pdf.cell(0, 5, _("Customer"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    rows = [buyer.name, *buyer.address.splitlines()]
    if buyer.vat_id:
        rows.append(_labelled(_("VAT ID"), buyer.vat_id))
    for row in rows:
        pdf.multi_cell(0, 4.5, row, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _lines_table(pdf: _Pdf, document: CommercialDocument) -> None:
    pdf.set_font(FONT, "", 8)
    headings = (
        "#",
        _("Description"),
        pgettext("document column", "Quantity"),
        _("Unit"),
        _("Unit price"),
        _("Discount"),
        _("VAT"),
        _("Net, %(currency)s") % {"currency": document.currency},
    )
    align = ("R", "L", "R", "L", "R", "R", "R", "R")
    with pdf.table(
        col_widths=LINE_COLUMNS,
        width=sum(LINE_COLUMNS),
        text_align=align,
        headings_style=FontFace(emphasis="BOLD", fill_color=GREY),
        repeat_headings=1,
        line_height=4.5,
        padding=CELL_PADDING,
        align="LEFT",
    ) as table:
        header = table.row()
        for heading in headings:
            header.cell(heading)
        for position, line in enumerate(document.lines, start=1):
            figures = line.totals
            first, *rest = _description_rows(pdf, line.description)
            row = table.row()
            row.cell(str(position))
            row.cell(first)
            row.cell(money.format_quantity(figures.quantity))
            row.cell(line.unit)
            row.cell(money.format_number(figures.unit_price))
            row.cell(money.format_percent(figures.discount_percent) if figures.discount else "")
            row.cell(money.format_percent(figures.vat_rate))
            row.cell(money.format_number(figures.net))
            for more in rest:
                row = table.row()
                for column in range(len(LINE_COLUMNS)):
                    row.cell(more if column == 1 else "")
    pdf.ln(4)


def _description_rows(pdf: _Pdf, description: str) -> list[str]:
    """The description cut into pieces of at most ROW_MAX_LINES lines of its column."""
    # multi_cell keeps its own cell margin inside the width; a table cell its padding only.
    width = LINE_COLUMNS[1] - 2 * CELL_PADDING + 2 * pdf.c_margin
    lines = pdf.multi_cell(width, text=description, dry_run=True, output="LINES")
    return [
        "\n".join(lines[start : start + ROW_MAX_LINES])
        for start in range(0, len(lines), ROW_MAX_LINES)
    ] or [""]


def _totals_block(pdf: _Pdf, document: CommercialDocument) -> None:
    totals, currency = document.totals, document.currency
    widths = (40, 35, 35)
    pdf.set_font(FONT, "", 8)
    with pdf.table(
        col_widths=widths,
        width=sum(widths),
        text_align=("L", "R", "R"),
        headings_style=FontFace(emphasis="BOLD", fill_color=GREY),
        line_height=4.5,
        padding=CELL_PADDING,
        align="RIGHT",
    ) as table:
        header = table.row()
        for heading in (_("VAT rate"), _("Net"), _("VAT")):
            header.cell(heading)
        for rate in totals.vat_breakdown:
            row = table.row()
            row.cell(money.format_percent(rate.rate))
            row.cell(money.format_money(rate.net, currency))
            row.cell(money.format_money(rate.vat, currency))
    pdf.ln(3)
    for label, amount, style in (
        (_("Net total"), totals.net, ""),
        (_("VAT total"), totals.vat, ""),
        (_("Total"), totals.gross, "B"),
    ):
        pdf.set_font(FONT, style, 10 if style else 9)
        pdf.set_x(pdf.w - PAGE_MARGIN - sum(widths))
        pdf.cell(widths[0] + widths[1], 6, label)
        pdf.cell(widths[2], 6, money.format_money(amount, currency), align="R")
        pdf.ln(6)
    pdf.ln(4)


def _notes_block(pdf: _Pdf, document: CommercialDocument) -> None:
    seller = document.seller
    if document.notes:
        pdf.set_font(FONT, "B", 9)
        pdf.cell(0, 5, _("Notes"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(0, 4.5, document.notes, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    bank = [
        _labelled(label, value)
        for label, value in (
            (_("Bank"), seller.bank_name),
            (_("IBAN or account"), seller.iban),
            (_("BIC"), seller.bic),
        )
        if value
    ]
    if bank:
        pdf.set_font(FONT, "", 8)
        pdf.multi_cell(0, 4, " · ".join(bank), new_x="LMARGIN", new_y="NEXT")
