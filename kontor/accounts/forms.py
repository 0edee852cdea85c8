"""Settings forms: they parse input and hand cleaned data to services; they never save."""

from __future__ import annotations

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from kontor.core import types as core_types
from kontor.core.access import ANY_OBJECT_TYPE, Action, Scope
from kontor.core.errors import KontorError
from kontor.core.inputs import DB_INT_MAX, as_db_id

from . import jobs, queries, services, throttle
from .models import Department, User, normalize_email
from .services import may_manage_roles

# Service field names that a form shows under another name.
FIELD_ALIASES = {"department_id": "department", "role_ids": "roles", "parent_id": "parent"}


def add_service_error(form: forms.Form, error: KontorError) -> None:
    """Show a refused write on the form: field messages beside fields, the rest on top."""
    if not error.errors:
        form.add_error(None, str(error.message))
        return
    for field, messages in error.errors.items():
        name = FIELD_ALIASES.get(field, field)
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


class _TreeOrder(forms.models.ModelChoiceIterator):
    """Choices in tree order, each name indented by its depth, so a select reads as the tree."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.field.tree:
            yield (self.choice(obj)[0], obj.tree_label)


class AccessibleForm(forms.Form):
    """Marks invalid controls with aria-invalid and ties them to their message."""

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].auto_id}_error"


class DepartmentChoiceField(forms.ModelChoiceField):
    iterator = _TreeOrder

    def __init__(self, tree, **kwargs):
        self.tree = tree
        super().__init__(queryset=Department.objects.filter(pk__in=[d.pk for d in tree]), **kwargs)


def department_field(actor, *, label, empty_label=None):
    return DepartmentChoiceField(
        queries.department_tree(actor),
        required=False,
        label=label,
        empty_label=empty_label or _("— none —"),
    )


class RoleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.display_name

    def _check_values(self, value):
        # An id beyond 64 bits would overflow the database driver: it is just not a choice.
        for pk in value:
            if as_db_id(pk) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


class UserForm(AccessibleForm):
    """Create or edit a user; fields the actor may not change are not offered at all."""

    email = forms.EmailField(label=_("Email"), max_length=254)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to let the user set one later."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    is_superuser = forms.BooleanField(label=_("Superuser"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, actor, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.user = user
        is_self = user is not None and user.pk == actor.pk
        self.fields["department"] = department_field(actor, label=_("Department"))
        if may_manage_roles(actor) and not is_self:
            self.fields["roles"] = RoleChoiceField(
                queryset=queries.assignable_roles(actor),
                required=False,
                label=_("Roles"),
                widget=forms.CheckboxSelectMultiple,
            )
        if user is not None:
            del self.fields["password"]
        if is_self:
            del self.fields["is_active"]
        if is_self or not actor.is_superuser:
            del self.fields["is_superuser"]
        if user is not None and not self.is_bound:
            self.initial.update(
                email=user.email,
                first_name=user.first_name,
                last_name=user.last_name,
                department=user.department_id,
                is_active=user.is_active,
                is_superuser=user.is_superuser,
                roles=list(user.roles.values_list("pk", flat=True)),
                version=user.version,
            )

    def changes(self) -> dict:
        """The service's ``data``: only the fields this form offered."""
        data = {
            k: v
            for k, v in self.cleaned_data.items()
            if k in ("email", "first_name", "last_name", "is_active", "is_superuser", "department")
            and k in self.fields
        }
        if "roles" in self.fields:
            data["roles"] = list(self.cleaned_data["roles"])
        return data


class UserFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    department = forms.IntegerField(required=False, min_value=1, max_value=DB_INT_MAX)
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("1", _("Active")), ("0", _("Deactivated"))],
    )


class DepartmentForm(AccessibleForm):
    name = forms.CharField(label=_("Name"), max_length=150)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, actor, department=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"] = department_field(
            actor, label=_("Inside"), empty_label=_("— top level —")
        )
        if department is not None and not self.is_bound:
            self.initial.update(
                name=department.name, parent=department.parent_id, version=department.version
            )


SCOPE_CHOICES = [("", "—"), *[(str(v), label) for v, label in Scope.choices()]]


class RoleForm(AccessibleForm):
    """Name, description and a matrix of object type x action, one scope select per cell."""

    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, role=None, **kwargs):
        super().__init__(*args, **kwargs)
        existing = {}
        if role is not None:
            existing = {(g.object_type, g.action): g.scope for g in role.grants.all()}
        types = queries.object_types()
        types += sorted({t for t, _a in existing} - set(types))
        self.object_types = types
        for object_type in types:
            for action, label in Action.choices:
                self.fields[self.cell_name(object_type, action)] = forms.TypedChoiceField(
                    label=_("%(action)s %(object_type)s")
                    % {"action": label, "object_type": object_type},
                    choices=SCOPE_CHOICES,
                    coerce=int,
                    empty_value=0,
                    required=False,
                )
        if role is not None and not self.is_bound:
            self.initial.update(name=role.name, description=role.description, version=role.version)
            for (object_type, action), scope in existing.items():
                self.initial[self.cell_name(object_type, action)] = str(scope)

    @staticmethod
    def cell_name(object_type: str, action: str) -> str:
        return f"grant:{object_type}:{action}"

    def rows(self):
        """For the template: one row per object type, (action label, bound field) per action."""
        return [
            (
                object_type,
                "" if object_type == ANY_OBJECT_TYPE else core_types.label_of(object_type),
                [(label, self[self.cell_name(object_type, a)]) for a, label in Action.choices],
            )
            for object_type in self.object_types
        ]

    def grants(self) -> list[tuple[str, str, int]]:
        return [
            (object_type, action, self.cleaned_data[self.cell_name(object_type, action)])
            for object_type in self.object_types
            for action in Action.all
            if self.cleaned_data.get(self.cell_name(object_type, action))
        ]


class TokenForm(AccessibleForm):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        required=False,
        help_text=_("Where the token is used, e.g. “laptop script”."),
    )


def _password_field(label, *, autocomplete="new-password", help_text=None):
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
        help_text=help_text,
    )


class PasswordForm(AccessibleForm):
    """A new password, typed twice; the service checks its strength."""

    password = _password_field(
        _("New password"), help_text=password_validation.password_validators_help_text_html()
    )
    password_confirm = _password_field(_("New password again"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") != cleaned.get("password_confirm"):
            self.add_error("password_confirm", _("The two passwords differ."))
        return cleaned


class ChangePasswordForm(PasswordForm):
    """Your own new password, behind the current one."""

    current_password = _password_field(_("Current password"), autocomplete="current-password")
    field_order = ["current_password", "password", "password_confirm"]


# The reset mail's templates, for the forgot-password page and an admin's "send reset link".
RESET_MAIL_TEMPLATES = {
    "subject_template_name": "accounts/password_reset_subject.txt",
    "email_template_name": "accounts/password_reset_email.txt",
}


class PasswordResetForm(AccessibleForm, auth_forms.PasswordResetForm):
    """Django's forgot-password form, for Kontor's users and in each one's language.

    Each link is counted by the reset-mail throttle, per user and per ``client_ip`` (the
    requester's address), unless ``counted`` already (an administrator's
    ``services.send_password_reset``).
    """

    def __init__(self, *args, client_ip: str | None = None, counted: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.client_ip, self.counted = client_ip, counted

    def get_users(self, email):
        # Also users who have no password yet: a new user chooses their first one this way.
        users = User.objects.filter(email=normalize_email(email), is_active=True)
        if self.counted:
            return users
        # Over the limit no mail goes, and the page says the same as ever: the answer
        # reveals neither whether the email is known nor whether it was throttled.
        return [u for u in users if not throttle.reset_mail_wait(u, client_ip=self.client_ip)]

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        # A background job (kontor.core.jobs) mails it: the page answers without waiting
        # for the mail server, as fast for a known address as for an unknown one.
        jobs.mail_reset_link.enqueue(
            context["user"].pk,
            language=context["user"].language or translation.get_language(),
            domain=context["domain"],
            site_name=context["site_name"],
            protocol=context["protocol"],
            templates={
                "subject_template_name": subject_template_name,
                "email_template_name": email_template_name,
            },
        )


def send_reset_link(user: User, request) -> None:
    """Mail ``user`` a reset link, exactly as the forgot-password page would."""
    form = PasswordResetForm({"email": user.email}, counted=True)
    if form.is_valid():
        form.save(request=request, use_https=request.is_secure(), **RESET_MAIL_TEMPLATES)


class ResetPasswordForm(AccessibleForm, auth_forms.SetPasswordForm):
    """The page behind a reset link: the new password is stored by the accounts service."""

    def save(self, commit=True):
        return services.reset_password(self.user, password=self.cleaned_data["new_password1"])
