"""People and companies: who is this, and whose client is it."""

from django.db import models
from django.db.models import F, Func, IntegerField
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kontor.core import phones
from kontor.core.models import BusinessRecord
from kontor.core.types import visible_link


class MonthDay(Func):
    """A date's month and day as one number, the same every year (3 December: 1203): what
    a birthday or an anniversary is found by, in a range of days, through an index on it.
    Built-in, immutable functions only, so each database indexes it (SQLite keeps a date
    as "YYYY-MM-DD" text)."""

    output_field = IntegerField()
    arity = 1

    def as_sqlite(self, compiler, connection, **extra):
        template = "CAST(replace(substr(%(expressions)s, 6), '-', '') AS INTEGER)"
        return super().as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        template = (
            "(EXTRACT(MONTH FROM %(expressions)s) * 100"
            " + EXTRACT(DAY FROM %(expressions)s))::integer"
        )
        return super().as_sql(compiler, connection, template=template, **extra)


class Tag(models.Model):
    """A free label on people and companies ("VIP", "supplier")."""

    name = models.CharField(_("name"), max_length=60, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.name


class Company(BusinessRecord):
    """An organisation the company deals with: client, supplier, partner."""

    # The plain fields a user edits, as services take them and the audit records them.
    profile_fields = ("name", "legal_name", "tax_id", "industry", "website", "notes")
    # What ``str()`` reads: a person's employer is read with it alone (types.select_names).
    name_fields = ("name",)

    name = models.CharField(_("name"), max_length=255)
    legal_name = models.CharField(_("legal name"), max_length=255, blank=True)
    tax_id = models.CharField(_("tax id"), max_length=32, blank=True, db_index=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    website = models.URLField(_("website"), max_length=255, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="+")

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        indexes = [
            models.Index(fields=["name", "id"]),
            models.Index(fields=["department", "name"]),
            models.Index(fields=["owner", "name"]),
            # Every sort the list offers, and the dashboard's "recently changed", walk an
            # index: at a million rows a sort without one takes seconds.
            models.Index(fields=["created_at", "id"]),
            models.Index(fields=["updated_at", "id"]),
            models.Index(fields=["industry", "name", "id"]),
        ]

    def __str__(self):
        return self.name

    def search_text(self) -> str:
        return " ".join(
            [self.name, self.legal_name, self.tax_id, self.website]
            + contact_point_search_terms(self)
        )

    def audit_snapshot(self) -> dict:
        return record_snapshot(self, self.profile_fields)


class Person(BusinessRecord):
    """A human being the company knows: a client's contact, a private client, a partner."""

    # See Company.profile_fields; the employer is linked separately (company_id).
    profile_fields = (
        "first_name",
        "middle_name",
        "last_name",
        "position",
        "birthday",
        "source",
        "notes",
    )
    name_fields = ("first_name", "middle_name", "last_name")  # what ``str()`` reads

    first_name = models.CharField(_("first name"), max_length=100)
    middle_name = models.CharField(_("middle name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    position = models.CharField(_("position"), max_length=150, blank=True)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="people",
    )
    # The employer's name, copied so that the list sorted by company walks an index
    # (a sort across the join took 0.4-2.2 s at a million people). Set wherever the
    # employer is, rewritten when a company is renamed or deleted (services).
    company_name = models.CharField(
        _("company name"), max_length=255, blank=True, default="", db_default="", editable=False
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="+")

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [
            models.Index(fields=["last_name", "first_name", "id"]),
            models.Index(fields=["department", "last_name", "first_name"]),
            models.Index(fields=["owner", "last_name", "first_name"]),
            # See Company: the list's sorts and the dashboard walk these.
            models.Index(fields=["created_at", "id"]),
            models.Index(fields=["updated_at", "id"]),
            models.Index(fields=["birthday", "id"]),
            # A reader's clients' birthdays in the days ahead (``activities.dates``).
            models.Index(F("owner"), MonthDay("birthday"), name="person_owner_birthday_day"),
            models.Index(fields=["company_name", "last_name", "id"]),
        ]

    def __str__(self):
        return self.full_name

    @property
    def visible_company(self):
        """The employer, if the reader may see it (``core.types.visible_link``)."""
        return visible_link(self, "company")

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)

    def search_text(self) -> str:
        # Not the employer's name: people are found by it through the company's own
        # document, and only by readers who can see the company (search.register links).
        return " ".join([self.full_name, self.position] + contact_point_search_terms(self))

    def audit_snapshot(self) -> dict:
        snap = record_snapshot(self, [*self.profile_fields, "company_id"])
        snap["family"] = [
            f"{m.relation}: {m.name} {m.birthday or ''}".strip() for m in _related(self, "family")
        ]
        snap["important_dates"] = [
            f"{d.label}: {d.date}" for d in _related(self, "important_dates")
        ]
        return snap


def record_snapshot(obj, fields: list[str]) -> dict:
    """Audited values of a person or company, with their contact points and tags."""
    snap = {f: getattr(obj, f) for f in fields}
    snap.update(
        owner_id=obj.owner_id,
        department_id=obj.department_id,
        phones=[f"{p.kind}: {p.raw}" for p in _related(obj, "phones")],
        emails=[f"{e.kind}: {e.address}" for e in _related(obj, "emails")],
        addresses=[f"{a.kind}: {a.one_line}" for a in _related(obj, "addresses")],
        tags=sorted(t.name for t in _related(obj, "tags")),
    )
    return snap


def _related(obj, name: str):
    """``obj.<name>.all()``, read straight from a prefetch when there is one.

    The same rows either way; it skips building a related manager per list, which was
    a measurable part of the bulk import (kontor.core.bulk primes every list).
    """
    cache = getattr(obj, "_prefetched_objects_cache", None)
    if cache is not None and name in cache:
        return cache[name]
    return getattr(obj, name).all()


def contact_point_search_terms(obj) -> list[str]:
    """Emails and every phone as typed and as E.164 digits, for the search document.

    The national number needs no term of its own: it ends the E.164 digits, and
    search matches substrings.
    """
    terms = [e.address for e in _related(obj, "emails")]
    for phone in _related(obj, "phones"):
        terms.append(phone.raw)
        if phone.e164:
            terms.append(phone.e164.lstrip("+"))
    return terms


def _belongs_to(model, related_name: str):
    return models.ForeignKey(
        model, null=True, blank=True, on_delete=models.CASCADE, related_name=related_name
    )


class ContactPoint(models.Model):
    """A phone, email or address belonging to exactly one person or one company.

    Subclasses declare ``person`` and ``company`` with ``_belongs_to``.
    """

    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    @property
    def owner_record(self):
        return self.person if self.person_id else self.company


def _one_owner_constraint(name: str):
    return models.CheckConstraint(
        condition=(
            models.Q(person__isnull=False, company__isnull=True)
            | models.Q(person__isnull=True, company__isnull=False)
        ),
        name=name,
    )


class Phone(ContactPoint):
    """A phone number as typed, with its E.164 form for lookup (caller ID)."""

    class Kind(models.TextChoices):
        MOBILE = "mobile", _("mobile")
        WORK = "work", _("work")
        HOME = "home", _("home")
        FAX = "fax", _("fax")
        OTHER = "other", _("other")

    person = _belongs_to(Person, "phones")
    company = _belongs_to(Company, "phones")
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.MOBILE)
    raw = models.CharField(_("number"), max_length=64)
    # The main number: lookup, search and duplicates match on it, whatever the extension.
    e164 = models.CharField(max_length=20, db_index=True)
    # Typed after the number ("доб. 105", "ext. 12", "x12"), kept apart from it.
    extension = models.CharField(
        _("extension"), max_length=16, blank=True, default="", db_default=""
    )

    class Meta(ContactPoint.Meta):
        verbose_name = _("phone")
        verbose_name_plural = _("phones")
        constraints = [_one_owner_constraint("phone_one_owner")]

    def __str__(self):
        return self.raw

    @property
    def display(self) -> str:
        return phones.pretty(self.e164, self.extension) or self.raw

    @property
    def tel_uri(self) -> str:
        return phones.tel_uri(self.e164, self.extension)


class Email(ContactPoint):
    class Kind(models.TextChoices):
        WORK = "work", _("work")
        PERSONAL = "personal", _("personal")
        OTHER = "other", _("other")

    person = _belongs_to(Person, "emails")
    company = _belongs_to(Company, "emails")
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.WORK)
    address = models.EmailField(_("email"), max_length=254)
    # Lower-cased for matching duplicates; the address keeps the user's spelling.
    normalized = models.CharField(max_length=254, db_index=True)

    class Meta(ContactPoint.Meta):
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        constraints = [_one_owner_constraint("email_one_owner")]

    def __str__(self):
        return self.address


class Address(ContactPoint):
    class Kind(models.TextChoices):
        OFFICE = "office", _("office")
        HOME = "home", _("home")
        BILLING = "billing", _("billing")
        DELIVERY = "delivery", _("delivery")
        OTHER = "other", _("other")

    person = _belongs_to(Person, "addresses")
    company = _belongs_to(Company, "addresses")
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.OFFICE)
    street = models.CharField(_("street"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)

    class Meta(ContactPoint.Meta):
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        constraints = [_one_owner_constraint("address_one_owner")]

    def __str__(self):
        return self.one_line

    @property
    def one_line(self) -> str:
        parts = (self.street, self.city, self.region, self.postal_code, self.country)
        return ", ".join(p for p in parts if p)


class FamilyMember(models.Model):
    """Someone in a person's family: names and birthdays a good account manager remembers."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="family")
    relation = models.CharField(_("relation"), max_length=50)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=150)
    birthday = models.DateField(_("birthday"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("family member")
        verbose_name_plural = _("family members")
        indexes = [models.Index(MonthDay("birthday"), name="family_member_birthday_day")]

    def __str__(self):
        return f"{self.name} ({self.relation})"


class ImportantDate(models.Model):
    """A date worth a greeting: wedding anniversary, company founding day."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="important_dates")
    label = models.CharField(_("occasion"), max_length=100)
    date = models.DateField(_("date"))

    class Meta:
        ordering = ["date", "id"]
        verbose_name = _("important date")
        verbose_name_plural = _("important dates")
        indexes = [models.Index(MonthDay("date"), name="important_date_day")]

    def __str__(self):
        return f"{self.label}: {self.date}"
