"""The company details form: hands cleaned input to the service, which validates it."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from kontor.accounts.forms import AccessibleForm

from .models import CompanyDetails
from .services import TEXT_FIELDS


class CompanyDetailsForm(AccessibleForm):
    """Every text field of the details, the logo (upload or remove) and the row version."""

    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_("PNG or JPEG, printed at the top of every document."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, details: CompanyDetails, **kwargs):
        super().__init__(*args, **kwargs)
        for name in TEXT_FIELDS:
            model_field = CompanyDetails._meta.get_field(name)
            widget = forms.Textarea(attrs={"rows": 4}) if name == "address" else None
            self.fields[name] = forms.CharField(
                label=capfirst(model_field.verbose_name),
                help_text=model_field.help_text,
                required=False,
                # The model's limit is checked by the service with the other rules.
                strip=True,
                widget=widget,
            )
        self.order_fields([*TEXT_FIELDS, "logo", "remove_logo", "version"])
        if not self.is_bound:
            self.initial.update({name: getattr(details, name) for name in TEXT_FIELDS})
            self.initial["version"] = details.version
