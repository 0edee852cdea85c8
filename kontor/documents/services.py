"""The company's legal details: read by the document renderer, changed by administrators.

The one write goes through ``kontor.core.services.update_record`` (permission, row
version, validation, audit, event in one transaction), as every record's does.
"""

from __future__ import annotations

import io
import warnings

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from PIL import Image

from kontor.core import services as records
from kontor.core.access import Action, Scope, scope_for
from kontor.core.errors import PermissionDenied, ValidationFailed

from .models import CompanyDetails
from .pdf import Seller

SINGLETON = 1
DETAILS_TYPE = "documents.companydetails"
TEXT_FIELDS = (
    "legal_name",
    "address",
    "tax_number",
    "vat_id",
    "registration_number",
    "bank_name",
    "iban",
    "bic",
    "phone",
    "email",
    "website",
)
LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
# Larger than any print needs; bounds the memory a decoded logo takes in the renderer.
LOGO_MAX_SIDE = 4000


def may_view_details(user) -> bool:
    # The details belong to no owner or department: only an "everything" scope shows them.
    return scope_for(user, DETAILS_TYPE, Action.VIEW) == Scope.ALL


def may_edit_details(user) -> bool:
    return scope_for(user, DETAILS_TYPE, Action.EDIT) == Scope.ALL


def company_details() -> CompanyDetails:
    """The row of legal details, made empty on the first read of a new install.

    Read without a scope on purpose: the details are printed on every document the
    company issues, so whoever may render a document reads them; only their settings
    page and their change are kept to administrators.
    """
    try:
        with transaction.atomic():
            details, _created = CompanyDetails.objects.get_or_create(pk=SINGLETON)
    except IntegrityError:  # another request made it meanwhile
        details = CompanyDetails.objects.get(pk=SINGLETON)
    return details


def logo_type(content: bytes) -> str:
    """The media type of a logo if it is a PNG or JPEG image within the limits, else
    ValidationFailed under "logo"."""
    limit = settings.KONTOR_LOGO_MAX_BYTES
    if len(content) > limit:
        raise ValidationFailed(
            errors={"logo": [_("The logo is larger than %(kb)d KB.") % {"kb": limit // 1024}]}
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                kind, (width, height) = image.format, image.size
                image.verify()
    except Exception:  # Pillow raises many kinds for a file that is no image it reads
        kind, width, height = None, 0, 0
    if kind not in LOGO_FORMATS:
        raise ValidationFailed(errors={"logo": [_("Upload a PNG or JPEG image.")]})
    if width > LOGO_MAX_SIDE or height > LOGO_MAX_SIDE:
        raise ValidationFailed(
            errors={
                "logo": [
                    _("The logo may be at most %(side)d pixels wide and high.")
                    % {"side": LOGO_MAX_SIDE}
                ]
            }
        )
    return LOGO_FORMATS[kind]


def _cleaned(field: str, value) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if field in {"iban", "bic"}:
        return "".join(text.split()).upper()
    if field == "address":
        return "\n".join(line.strip() for line in text.splitlines()).strip()
    return text


_UNCHANGED = object()


def update_company_details(
    data: dict, *, actor, expected_version: int | None = None, logo=_UNCHANGED
) -> CompanyDetails:
    """Change the legal details: the text fields in ``data`` (others stay), and the logo
    when ``logo`` is given (image bytes; None removes it). Audited as
    ``documents.companydetails.updated``."""
    details = company_details()
    # A non-administrator is refused before anything about the input is said.
    if not may_edit_details(actor):
        raise PermissionDenied(_("Only an administrator can change the company details."))
    new_logo_type = logo_type(logo) if logo not in (_UNCHANGED, None) else ""

    def apply(target: CompanyDetails) -> None:
        for field in TEXT_FIELDS:
            if field in data:
                setattr(target, field, _cleaned(field, data[field]))
        if logo is not _UNCHANGED:
            target.logo, target.logo_type = (logo or None), new_logo_type

    return records.update_record(details, apply, actor=actor, expected_version=expected_version)


def seller() -> Seller:
    """The details as the renderer takes them (``pdf.Seller``)."""
    details = company_details()
    return Seller(
        name=details.legal_name,
        address=details.address,
        tax_number=details.tax_number,
        vat_id=details.vat_id,
        registration_number=details.registration_number,
        bank_name=details.bank_name,
        iban=details.iban,
        bic=details.bic,
        phone=details.phone,
        email=details.email,
        website=details.website,
        logo=bytes(details.logo) if details.logo else None,
    )
