"""The errors a service raises; UI and API turn each into a message and a status code."""

from django.utils.translation import gettext_lazy as _


class KontorError(Exception):
    """A refused operation with a translated message and optional per-field messages."""

    status_code = 400
    default_message = _("The request could not be processed.")

    def __init__(self, message=None, *, errors: dict[str, list[str]] | None = None):
        self.message = message or self.default_message
        self.errors = {k: [str(m) for m in v] for k, v in (errors or {}).items()}
        super().__init__(str(self.message))


class ValidationFailed(KontorError):
    status_code = 422
    default_message = _("Please correct the errors below.")


class TooManyAttempts(ValidationFailed):
    """A throttled guess (e.g. of a password): refused unseen until the cool-off passes.

    A ValidationFailed so that a form shows it beside the field; the API answers 429.
    """

    status_code = 429
    default_message = _("Too many attempts. Please wait and try again.")

    def __init__(self, message=None, *, errors=None, retry_after: int | None = None):
        super().__init__(message, errors=errors)
        # Seconds until the cool-off ends: the answer's ``Retry-After`` header.
        self.retry_after = retry_after


class PermissionDenied(KontorError):
    status_code = 403
    default_message = _("You do not have permission to do this.")


class NotFound(KontorError):
    """Also raised for records outside the actor's scope: they do not exist for them."""

    status_code = 404
    default_message = _("Not found.")


class Conflict(KontorError):
    status_code = 409
    default_message = _(
        "Someone else changed this record after you opened it. "
        "Reload to see their changes, then apply yours again."
    )


def with_retry_after(response, seconds: int | None):
    """``response`` with ``Retry-After: seconds`` (RFC 9110) when a cool-off is known."""
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
