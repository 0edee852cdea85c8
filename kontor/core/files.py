"""Attachments: documents stored through Django's storage API on any record.

An attachment is visible exactly when its record is; there is no other way to reach a
file than through ``attachment_for(user, id)``, which checks the record's scope.
"""

from __future__ import annotations

import mimetypes

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils.translation import gettext as _

from . import audit
from .access import Action, require
from .errors import NotFound, ValidationFailed
from .inputs import text_problem
from .models import Attachment


def record_of(attachment: Attachment):
    model = apps.get_model(attachment.object_type)
    return model._base_manager.get(pk=attachment.object_id)


def attachments_of(record):
    return Attachment.objects.filter(object_type=record._meta.label_lower, object_id=record.pk)


def attachment_for(user, attachment_id, action: str = Action.VIEW) -> Attachment:
    """The attachment, if ``user`` may ``action`` its record; NotFound otherwise."""
    try:
        attachment = Attachment.objects.get(pk=attachment_id)
        record = record_of(attachment)
    except (ObjectDoesNotExist, LookupError, ValueError, TypeError):
        raise NotFound() from None
    require(user, action, record)
    return attachment


# File systems allow 255 bytes per name; a Cyrillic letter takes two. Some room is left
# for the suffix storage adds when a name is taken.
MAX_STORED_NAME_BYTES = 200


def stored_name(name: str) -> str:
    """``name`` cut to MAX_STORED_NAME_BYTES of UTF-8, keeping its extension and whole letters.

    The attachment keeps the full name for display and download; only the file on disk
    gets the short one.
    """
    if len(name.encode()) <= MAX_STORED_NAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    if not stem or len(extension.encode()) > 20:
        stem, dot, extension = name, "", ""
    room = MAX_STORED_NAME_BYTES - len((dot + extension).encode())
    return stem.encode()[:room].decode(errors="ignore") + dot + extension


def add_attachment(record, uploaded_file, *, actor) -> Attachment:
    """Attach ``uploaded_file`` to ``record``; anyone who may edit the record may attach."""
    require(actor, Action.EDIT, record)
    name = (getattr(uploaded_file, "name", "") or "").rsplit("/", 1)[-1].strip()[:255]
    if not name:
        raise ValidationFailed(errors={"file": [_("Choose a file to upload.")]})
    if problem := text_problem(name):
        raise ValidationFailed(errors={"file": [problem]})
    size = uploaded_file.size
    if size > settings.KONTOR_MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(
            errors={
                "file": [
                    _("The file is larger than %(mb)s MB.")
                    % {"mb": settings.KONTOR_MAX_ATTACHMENT_BYTES // (1024 * 1024)}
                ]
            }
        )
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    with transaction.atomic():
        attachment = Attachment(
            object_type=record._meta.label_lower,
            object_id=record.pk,
            name=name,
            size=size,
            content_type=content_type,
            uploaded_by=actor if getattr(actor, "pk", None) else None,
        )
        attachment.file.save(stored_name(name), uploaded_file, save=False)
        # A file written for a rolled-back row would be an orphan: remove it then.
        try:
            attachment.save()
            audit.record(
                f"{record._meta.label_lower}.attachment_added",
                record,
                actor=actor,
                changes={"attachments": [None, name]},
            )
        except Exception:
            attachment.file.delete(save=False)
            raise
    return attachment


def delete_attachment(attachment: Attachment, *, actor) -> None:
    record = record_of(attachment)
    require(actor, Action.EDIT, record)
    with transaction.atomic():
        attachment.delete()
        audit.record(
            f"{record._meta.label_lower}.attachment_removed",
            record,
            actor=actor,
            changes={"attachments": [attachment.name, None]},
        )
        transaction.on_commit(lambda: attachment.file.delete(save=False))
