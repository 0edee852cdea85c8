"""The company's own legal details, printed on every commercial document it issues."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kontor.core.access import ScopedQuerySet

# Either a SWIFT BIC (8 or 11 characters) or a Russian BIK (9 digits): Kontor's users bank
# in both worlds, and a document prints what the bank gave them.
BIC_PATTERN = r"^(?:[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?|\d{9})$"
_IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")


def validate_account(value: str) -> None:
    """An IBAN (two letters first) must pass its check digits (ISO 13616, mod 97); a plain
    account number (Russian: 20 digits) only be digits."""
    if value.isdigit() and len(value) <= 34:
        return
    if not _IBAN_SHAPE.fullmatch(value):
        raise ValidationError(
            _("Enter an IBAN (DE89 3704 0044 0532 0130 00) or an account number of digits."),
            code="invalid",
        )
    rearranged = value[4:] + value[:4]
    if int("".join(str(int(char, 36)) for char in rearranged)) % 97 != 1:
        raise ValidationError(
            _("This IBAN's check digits do not match: look for a mistyped character."),
            code="checksum",
        )


class CompanyDetails(models.Model):
    """The one row of the company's legal details: seller block of quotes and invoices."""

    # Placed nowhere: only an "all" scope on documents.companydetails reaches it (admins).
    access_owner_field = None
    access_department_field = None

    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    # A TextField's max_length limits only the form widget: the validator checks it.
    address = models.TextField(
        _("address"),
        max_length=500,
        blank=True,
        validators=[MaxLengthValidator(500)],
        help_text=_("As printed: one line per row."),
    )
    tax_number = models.CharField(_("tax number"), max_length=50, blank=True)
    vat_id = models.CharField(_("VAT ID"), max_length=50, blank=True)
    registration_number = models.CharField(_("registration number"), max_length=50, blank=True)
    bank_name = models.CharField(_("bank"), max_length=200, blank=True)
    iban = models.CharField(
        _("IBAN or account number"), max_length=34, blank=True, validators=[validate_account]
    )
    bic = models.CharField(
        _("BIC"),
        max_length=11,
        blank=True,
        validators=[
            RegexValidator(BIC_PATTERN, _("Enter a BIC of 8 or 11 characters or a 9-digit BIK."))
        ],
    )
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    email = models.EmailField(_("email"), blank=True)
    website = models.URLField(_("website"), blank=True)
    # A small image kept in the row (KONTOR_LOGO_MAX_KB): every server and every backup has
    # it, the renderer reads it with the details, and a replaced logo leaves no file behind.
    logo = models.BinaryField(_("logo"), null=True, blank=True, editable=False)
    logo_type = models.CharField(max_length=20, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("company details")
        verbose_name_plural = _("company details")
        constraints = [
            # One company, one row: its key is always 1 (documents.services.SINGLETON).
            models.CheckConstraint(condition=models.Q(id=1), name="company_details_singleton"),
        ]

    def __str__(self):
        return self.legal_name or str(_("Company details"))

    def audit_snapshot(self) -> dict:
        """Its fields, the logo as its type and size: an audit row holds no image."""
        snap = {
            f.attname: getattr(self, f.attname)
            for f in self._meta.concrete_fields
            if f.attname not in {"id", "version", "updated_at", "logo", "logo_type"}
        }
        snap["logo"] = f"{self.logo_type}, {len(self.logo)} bytes" if self.logo else ""
        return snap
