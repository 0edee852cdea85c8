"""The company's legal details: one row, edited by administrators on a settings page,
audited, and read by the document renderer."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kontor.core.errors import Conflict, PermissionDenied, ValidationFailed
from kontor.core.models import AuditEntry
from kontor.documents import services
from kontor.documents.models import CompanyDetails
from tests.utils.pdf import image_bytes, pdf_pages

PAGE = reverse("documents:company_details")
FILLED = {
    "legal_name": "Baustoffe Müller GmbH",
    "address": "Hauptstraße 5  \r\n10115 Berlin\r\n",
    "tax_number": "27/123/45678",
    "vat_id": "DE123456789",
    "registration_number": "HRB 98765",
    "bank_name": "Berliner Bank",
    "iban": "de89 3704 0044 0532 0130 00",
    "bic": "cobadeffxxx",
    "phone": "+49 30 1234567",
    "email": "info@baustoffe.example",
    "website": "https://baustoffe.example",
}


def post(client, data, **files):
    details = services.company_details()
    return client.post(PAGE, {"version": details.version, **data, **files})


def test_an_administrator_saves_the_details_normalised_and_audited(client, org):
    client.force_login(org.admin)

    response = post(client, FILLED)

    assert response.status_code == 302
    details = CompanyDetails.objects.get()
    assert details.pk == services.SINGLETON
    assert details.legal_name == "Baustoffe Müller GmbH"
    assert details.address == "Hauptstraße 5\n10115 Berlin"
    assert (details.iban, details.bic) == ("DE89370400440532013000", "COBADEFFXXX")
    assert details.version == 2
    entry = AuditEntry.objects.get(action="documents.companydetails.updated")
    assert entry.actor_id == org.admin.pk
    assert entry.changes["legal_name"] == ["", "Baustoffe Müller GmbH"]
    assert entry.changes["iban"] == ["", "DE89370400440532013000"]
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "Baustoffe Müller GmbH" in page.content.decode()


def test_the_renderer_reads_the_stored_details(org):
    services.update_company_details(FILLED, actor=org.admin)

    seller = services.seller()

    assert seller.name == "Baustoffe Müller GmbH"
    assert seller.address == "Hauptstraße 5\n10115 Berlin"
    assert seller.iban == "DE89370400440532013000"
    assert seller.logo is None


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("iban", "DE89 3704 0044 0532 0130 01", "This IBAN's check digits do not match"),
        ("iban", "12-34", "Enter an IBAN"),
        ("bic", "COBA", "Enter a BIC of 8 or 11 characters or a 9-digit BIK."),
        ("email", "not an email", "Enter a valid email address."),
        ("website", "javascript:alert(1)", "Enter a valid URL."),
        ("legal_name", "x" * 201, "Ensure this value has at most 200 characters"),
        ("address", "x" * 501, "Ensure this value has at most 500 characters"),
    ],
)
def test_bad_input_is_shown_beside_its_field_and_kept(client, org, field, value, message):
    client.force_login(org.admin)

    response = post(client, {**FILLED, field: value})

    assert response.status_code == 422
    form = response.context["form"]
    assert any(message in error for error in form.errors[field])
    assert form[field].value() == value
    assert CompanyDetails.objects.get().legal_name == ""
    assert not AuditEntry.objects.filter(action="documents.companydetails.updated").exists()


def test_russian_bank_details_are_accepted(org):
    services.update_company_details(
        {"iban": "40702810900000012345", "bic": "044525225"}, actor=org.admin
    )

    details = CompanyDetails.objects.get()
    assert (details.iban, details.bic) == ("40702810900000012345", "044525225")


def test_the_logo_is_uploaded_shown_and_removed(client, org):
    client.force_login(org.admin)
    png = image_bytes("PNG")

    response = post(client, FILLED, logo=SimpleUploadedFile("logo.png", png, "image/png"))

    assert response.status_code == 302
    details = CompanyDetails.objects.get()
    assert (bytes(details.logo), details.logo_type) == (png, "image/png")
    served = client.get(reverse("documents:company_logo"))
    assert served["Content-Type"] == "image/png"
    assert served.content == png
    assert services.seller().logo == png
    entry = AuditEntry.objects.get(action="documents.companydetails.updated")
    assert entry.changes["logo"] == ["", f"image/png, {len(png)} bytes"]

    assert post(client, {**FILLED, "remove_logo": "on"}).status_code == 302

    details.refresh_from_db()
    assert (details.logo, details.logo_type) == (None, "")
    assert client.get(reverse("documents:company_logo")).status_code == 404


def test_a_jpeg_logo_is_accepted(org):
    services.update_company_details({}, actor=org.admin, logo=image_bytes("JPEG"))

    assert CompanyDetails.objects.get().logo_type == "image/jpeg"


@pytest.mark.parametrize(
    "content, message",
    [
        (image_bytes("GIF"), "Upload a PNG or JPEG image."),
        (b"%PDF-1.4 not an image", "Upload a PNG or JPEG image."),
        (image_bytes("PNG")[:40], "Upload a PNG or JPEG image."),
        (image_bytes("PNG", (4001, 10)), "at most 4000 pixels"),
    ],
)
def test_a_logo_that_is_no_small_png_or_jpeg_is_refused(client, org, content, message):
    client.force_login(org.admin)

    response = post(client, FILLED, logo=SimpleUploadedFile("logo.png", content, "image/png"))

    assert response.status_code == 422
    assert any(message in error for error in response.context["form"].errors["logo"])
    assert CompanyDetails.objects.get().logo is None


def test_a_logo_over_the_size_limit_is_refused(client, org, settings):
    settings.KONTOR_LOGO_MAX_BYTES = 1024
    client.force_login(org.admin)
    big = image_bytes("PNG", (600, 600)) + b"\0" * 1024

    response = post(client, FILLED, logo=SimpleUploadedFile("logo.png", big, "image/png"))

    assert response.status_code == 422
    assert response.context["form"].errors["logo"] == ["The logo is larger than 1 KB."]


def test_an_edit_over_someone_elses_is_refused(client, org):
    client.force_login(org.admin)
    stale = services.company_details().version
    services.update_company_details({"legal_name": "First"}, actor=org.superuser)

    response = client.post(PAGE, {**FILLED, "version": stale})

    assert response.status_code == 422
    assert "Someone else changed this record" in response.content.decode()
    assert CompanyDetails.objects.get().legal_name == "First"
    with pytest.raises(Conflict):
        services.update_company_details(
            {"legal_name": "Second"}, actor=org.admin, expected_version=stale
        )


@pytest.mark.parametrize("who", ["sales_head", "member_a", "nobody"])
def test_only_administrators_see_or_change_the_details(client, org, who):
    user = getattr(org, who)
    client.force_login(user)

    assert client.get(PAGE).status_code == 404
    assert post(client, FILLED).status_code == 404
    assert client.get(reverse("documents:company_logo")).status_code == 404
    assert client.get(reverse("documents:company_sample")).status_code == 404
    with pytest.raises(PermissionDenied):
        services.update_company_details(FILLED, actor=user)
    assert CompanyDetails.objects.get().legal_name == ""
    assert "Company details" not in client.get(reverse("accounts:token_list")).content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert reverse("web:login") in response["Location"]


def test_the_settings_menu_and_history_show_the_page_to_administrators(client, org):
    client.force_login(org.admin)
    services.update_company_details({"legal_name": "Baustoffe Müller GmbH"}, actor=org.admin)

    menu = client.get(reverse("accounts:token_list")).content.decode()
    history = client.get(reverse("web:history", args=["documents.companydetails", 1]))

    assert PAGE in menu
    assert history.status_code == 200
    assert "Baustoffe Müller GmbH" in history.content.decode()


def test_the_service_validates_without_the_form(org):
    with pytest.raises(ValidationFailed) as caught:
        services.update_company_details({"bic": "??"}, actor=org.admin)

    assert list(caught.value.errors) == ["bic"]


def test_a_sample_document_prints_the_details_in_the_users_language(client, org):
    services.update_company_details(FILLED, actor=org.admin)
    client.force_login(org.admin)

    response = client.get(reverse("documents:company_sample"), HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(pdf_pages(response.content))
    assert "Baustoffe Müller GmbH" in text
    assert "IBAN or account" not in text  # French labels
    # 3 × 0.35 at 7 %, 2.5 h × 80.00 less 12.5 % at 20 %, 15.00 at 0 %: 191.05 net,
    # 35.07 VAT (0.0735 -> 0.07, 35.00).
    assert "Total TTC 226,12 EUR" in text
