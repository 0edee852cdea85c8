"""B. Company's legal details, printed on its quotes; an install's own are kept."""

from __future__ import annotations

from kontor.core.access import SYSTEM

from . import services

DETAILS = {
    "legal_name": "B. Company LLC",
    "address": "12 Builders' Street\n125009 Moscow\nRussia",
    "tax_number": "7701234567",
    "registration_number": "1027700123456",
    "bank_name": "Demo Bank",
    "iban": "40702810900000012345",
    "bic": "044525225",
    "phone": "+7 495 123-45-67",
    "email": "info@bcompany.example",
    "website": "https://bcompany.example",
}


def load() -> bool:
    """Fill the company details unless someone has; answer whether it did."""
    if services.company_details().legal_name:
        return False
    services.update_company_details(DETAILS, actor=SYSTEM)
    return True
