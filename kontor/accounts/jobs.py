"""Background jobs of accounts (kontor.core.jobs)."""

from __future__ import annotations

from django.contrib.auth import forms as auth_forms
from django.contrib.auth.tokens import default_token_generator
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks import task

from .models import User


@task()
def mail_reset_link(
    user_id: int, *, language: str, domain: str, site_name: str, protocol: str, templates: dict
) -> None:
    """Mail an active user a link to choose a new password, in ``language``.

    The link's token is made here, when the mail goes, so that no job row or queue ever
    holds a working link."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return
    context = {
        "email": user.email,
        "domain": domain,
        "site_name": site_name,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": protocol,
    }
    with translation.override(language):
        auth_forms.PasswordResetForm().send_mail(
            templates["subject_template_name"],
            templates["email_template_name"],
            context,
            None,
            user.email,
        )
