"""A commercial document rendered to PDF, read back by a PDF text extractor (pypdf): every
figure on it must be there, to the cent, in the document's language."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import translation

from kontor.core import money
from kontor.documents import pdf
from tests.utils.pdf import image_bytes, pdf_pages, plain

SELLER = pdf.Seller(
    name="Baustoffe Müller GmbH",
    address="Hauptstraße 5\n10115 Berlin\nDeutschland",
    tax_number="27/123/45678",
    vat_id="DE123456789",
    registration_number="HRB 98765",
    bank_name="Berliner Bank",
    iban="DE89370400440532013000",
    bic="COBADEFFXXX",
    phone="+49 30 1234567",
    email="info@baustoffe.example",
    website="https://baustoffe.example",
)
BUYER = pdf.Buyer("Société Générale de Construction", "12 rue de la Paix\n75002 Paris", "FR12345")
# (description, unit, quantity, unit price, discount %, VAT %) -> net
LINES = [
    ("Cement M500, 50 kg bags", "bag", "3", "0.35", "0", "7", "1.05"),
    ("Delivery and unloading", "h", "2.5", "80.00", "12.5", "20", "175.00"),
    ("Reinforcing steel A500C", "t", "1", "9.99", "12.5", "20", "8.74"),
    ("Design consultation (exempt)", "h", "4", "15.00", "0", "0", "60.00"),
    ("Sand, washed", "m³", "7", "0.15", "0", "7", "1.05"),
    ("Bricks M150", "pcs", "1", "33.33", "10", "5.5", "30.00"),
    ("Large order", "pcs", "1000", "1234.56", "0", "20", "1234560.00"),
]


def make_document(lines=LINES, *, seller=SELLER, title=pdf.QUOTE, **changes):
    document_lines = tuple(
        pdf.DocumentLine(description, unit, money.line_totals(quantity, price, discount, vat))
        for description, unit, quantity, price, discount, vat, _net in lines
    )
    fields = {
        "title": title,
        "number": "2026-0042",
        "date": datetime.date(2026, 12, 2),
        "valid_until": datetime.date(2026, 12, 31),
        "seller": seller,
        "buyer": BUYER,
        "currency": "EUR",
        "lines": document_lines,
        "totals": money.document_totals(line.totals for line in document_lines),
        "notes": "Prices include delivery within Berlin.",
        **changes,
    }
    return pdf.CommercialDocument(**fields)


def rendered_text(document, language="en") -> str:
    return "\n".join(pdf_pages(pdf.render_pdf(document, language=language)))


def test_the_pdf_shows_seller_buyer_lines_vat_breakdown_and_totals_to_the_cent():
    document = make_document()

    content = pdf.render_pdf(document, language="en")

    assert content.startswith(b"%PDF-")
    text = "\n".join(pdf_pages(content))
    for detail in [
        "Baustoffe Müller GmbH",
        "Hauptstraße 5",
        "10115 Berlin",
        "Tax number: 27/123/45678",
        "VAT ID: DE123456789",
        "Registration number: HRB 98765",
        "Phone: +49 30 1234567",
        "Email: info@baustoffe.example",
        "Website: https://baustoffe.example",
        "Bank: Berliner Bank",
        "IBAN or account: DE89370400440532013000",
        "BIC: COBADEFFXXX",
        "Société Générale de Construction",
        "12 rue de la Paix",
        "VAT ID: FR12345",
        "Quote No. 2026-0042",
        "Date: 12/02/2026",
        "Valid until: 12/31/2026",
        "Prices include delivery within Berlin.",
        "Page 1 of 1",
    ]:
        assert detail in text
    rows = text.splitlines()
    for position, (description, unit, *_figures, net) in enumerate(LINES, start=1):
        line = document.lines[position - 1].totals
        row = f"{position} {description} "
        assert any(r.startswith(row) for r in rows), row
        expected_tail = plain(
            f"{unit} {money.format_number(line.unit_price)} "
            + (f"{money.format_percent(line.discount_percent)} " if line.discount else "")
            + f"{money.format_percent(line.vat_rate)} {money.format_number(Decimal(net))}"
        )
        assert any(r.startswith(row) and r.endswith(expected_tail) for r in rows), expected_tail
    # The VAT breakdown, one row per rate, and the totals: computed by hand.
    for breakdown_row in [
        "0 % 60.00 EUR 0.00 EUR",
        "5.5 % 30.00 EUR 1.65 EUR",
        "7 % 2.10 EUR 0.15 EUR",
        "20 % 1,234,743.74 EUR 246,948.75 EUR",
    ]:
        assert breakdown_row in rows
    assert "Net total 1,234,835.84 EUR" in rows
    assert "VAT total 246,950.55 EUR" in rows
    assert "Total 1,481,786.39 EUR" in rows


def test_amounts_and_labels_follow_the_language():
    text = rendered_text(make_document(), "fr")

    assert "Devis N° 2026-0042" in text
    assert "20 % 1 234 743,74 EUR 246 948,75 EUR" in text
    assert "Total TTC 1 481 786,39 EUR" in text
    assert "Date : 02/12/2026" in text


def test_cyrillic_text_round_trips():
    seller = pdf.Seller(name="ООО «Стройматериалы»", address="ул. Ленина, д. 1\nМосква, 101000")
    lines = [("Цемент М500, мешок 50 кг — ёмкость №3", "шт", "3", "0.35", "0", "7", "1.05")]

    text = rendered_text(make_document(lines, seller=seller, currency="RUB"), "ru")

    assert "ООО «Стройматериалы»" in text
    assert "ул. Ленина, д. 1" in text
    assert "Цемент М500, мешок 50 кг — ёмкость №3" in text
    assert "Коммерческое предложение № 2026-0042" in text
    assert "Итого 1,12 RUB" in text


def test_a_long_document_spans_pages_with_the_table_header_repeated():
    lines = [
        (f"Item {n:02d} " + "with a long description that wraps " * (n % 4), "pcs")
        + ("2", "10.00", "0", "20", "20.00")
        for n in range(1, 61)
    ]

    pages = pdf_pages(pdf.render_pdf(make_document(lines), language="en"))

    assert len(pages) >= 3
    heading = "# Description Quantity Unit Unit price Discount VAT Net, EUR"
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        if number > 1:
            assert "Quote No. 2026-0042 · Baustoffe Müller GmbH" in page
    # Each page that continues the table starts it with its header again.
    pages_with_lines = [page for page in pages if re.search(r"Item \d\d", page)]
    assert len(pages_with_lines) >= 2
    assert all(heading in page for page in pages_with_lines)
    # Every line, in order, across the pages (a wrapped row puts its number on a line
    # of its own).
    text = "\n".join(pages)
    found = [text.find(f"Item {n:02d}") for n in range(1, 61)]
    assert -1 not in found
    assert found == sorted(found)
    assert "Total 1,440.00 EUR" in text


def test_an_unbreakable_description_wraps_within_its_column():
    word = "Betonstahlmattenschweißanlagenersatzteil" * 4
    lines = [(word, "pcs", "1", "1.00", "0", "20", "1.00")]

    text = rendered_text(make_document(lines))

    assert word in text.replace("\n", "")


def test_a_description_longer_than_a_page_continues_over_rows_and_pages():
    words = [f"w{n:04d}" for n in range(2500)]
    lines = [(" ".join(words), "pcs", "1", "1.00", "0", "20", "1.00")]

    pages = pdf_pages(pdf.render_pdf(make_document(lines), language="en"))

    assert len(pages) >= 3
    text = " ".join(pages).split()
    found = [text.index(word) for word in words]
    assert found == sorted(found)
    assert "Total 1.20 EUR" in "\n".join(pages)


def test_a_logo_is_embedded(tmp_path):
    plain_pdf = pdf.render_pdf(make_document(), language="en")
    for kind in ("PNG", "JPEG"):
        seller = pdf.Seller(name="Logo GmbH", logo=image_bytes(kind, (300, 60)))
        content = pdf.render_pdf(make_document(seller=seller), language="en")
        assert b"/Subtype /Image" in content
    assert b"/Subtype /Image" not in plain_pdf


def test_totals_that_are_not_the_lines_are_refused():
    document = make_document()
    wrong = money.DocumentTotals(
        net=document.totals.net + Decimal("0.01"),
        vat_breakdown=document.totals.vat_breakdown,
        vat=document.totals.vat,
        gross=document.totals.gross + Decimal("0.01"),
    )

    with pytest.raises(ValueError, match="not those of its lines"):
        pdf.render_pdf(make_document(totals=wrong), language="en")


def test_a_missing_font_is_named_with_its_remedy(settings, tmp_path):
    settings.KONTOR_PDF_FONT_DIR = tmp_path

    with pytest.raises(pdf.PdfFontMissing, match="fonts-dejavu-core"):
        pdf.render_pdf(make_document(), language="en")


def test_rendering_leaves_the_active_language_alone():
    with translation.override("fr"):
        pdf.render_pdf(make_document(), language="ru")
        assert translation.get_language() == "fr"
