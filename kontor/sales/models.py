"""Sales: pipelines of ordered stages, and deals that move through them.

A pipeline's stages are kept by administrators (settings); a deal is a record on the
engine. Every move of a deal from one stage to another is kept (``StageChange``), with its
moment and author, so conversion from stage to stage and cycle times are computed from
the moves themselves, not guessed from a deal's present state.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kontor.core.models import BusinessRecord
from kontor.core.types import visible_link


class Pipeline(models.Model):
    """A sales funnel ("Retail", "Wholesale", "Tenders"): its own ordered stages."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")

    def __str__(self):
        return self.name


class Stage(models.Model):
    """One step of a pipeline. ``won`` and ``lost`` stages end a deal's way."""

    class Kind(models.TextChoices):
        OPEN = "open", pgettext_lazy("stage", "open")
        WON = "won", pgettext_lazy("stage", "won")
        LOST = "lost", pgettext_lazy("stage", "lost")

    # The deal fields a stage may require to be filled before a deal enters it.
    REQUIRABLE = ("amount", "expected_close", "company", "person", "source")

    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages"
    )
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.OPEN)
    probability = models.PositiveSmallIntegerField(
        _("win probability, %"), default=0, validators=[MaxValueValidator(100)]
    )
    # A deal with no activity for this many days is highlighted ("rotting"); None: never.
    rotting_days = models.PositiveIntegerField(_("rotting after days"), null=True, blank=True)
    required_fields = models.JSONField(_("required fields"), default=list, blank=True)

    class Meta:
        ordering = ["pipeline", "position", "id"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_name_in_pipeline")
        ]

    def __str__(self):
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.kind != self.Kind.OPEN


class LostReason(models.Model):
    """Why deals are lost ("Price", "Competitor", "No budget"): chosen when one is."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")

    def __str__(self):
        return self.name


class Deal(BusinessRecord):
    """A sale being made: its client, its stage in a pipeline, what it is worth."""

    class Source(models.TextChoices):
        WEBSITE = "website", _("website")
        REFERRAL = "referral", _("referral")
        CALL = "call", _("incoming call")
        EMAIL = "email", pgettext_lazy("source", "email")
        EVENT = "event", _("event")
        PARTNER = "partner", _("partner")
        TENDER = "tender", _("tender")
        OTHER = "other", _("other")

    name_fields = ("title",)

    title = models.CharField(_("title"), max_length=255)
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="+"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(_("currency"), max_length=3)
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    company = models.ForeignKey(
        "contacts.Company",
        verbose_name=_("company"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
    )
    person = models.ForeignKey(
        "contacts.Person",
        verbose_name=_("contact person"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, blank=True)
    tags = models.ManyToManyField(
        "contacts.Tag", verbose_name=_("tags"), blank=True, related_name="+"
    )
    lost_reason = models.ForeignKey(
        LostReason,
        verbose_name=_("lost reason"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    notes = models.TextField(_("notes"), blank=True)
    # When it entered its present stage, and when it was won or lost (None while open).
    stage_entered_at = models.DateTimeField(_("in stage since"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        indexes = [
            models.Index(fields=["title", "id"], name="deal_title"),
            models.Index(fields=["created_at", "id"], name="deal_created"),
            models.Index(fields=["updated_at", "id"], name="deal_updated"),
            models.Index(fields=["amount", "id"], name="deal_amount"),
            models.Index(fields=["expected_close", "id"], name="deal_close"),
            # A board column: one stage's deals, newest in stage first.
            models.Index(fields=["stage", "-stage_entered_at", "-id"], name="deal_stage"),
            models.Index(fields=["owner", "stage"], name="deal_owner_stage"),
            models.Index(fields=["department", "stage"], name="deal_dept_stage"),
            # Closed deals by date (win rate, revenue, plans). Partial: with the open deals
            # in it, SQLite's planner took "closed_at IS NULL" for two rows and walked
            # every open deal on each board read.
            models.Index(
                fields=["closed_at", "id"],
                name="deal_closed",
                condition=models.Q(closed_at__isnull=False),
            ),
            # The board's column heads (counts and sums per currency, with its filters)
            # read from the index alone.
            models.Index(
                fields=["pipeline", "stage", "currency", "owner", "department", "amount", "id"],
                name="deal_open_heads",
                condition=models.Q(closed_at__isnull=True),
            ),
            # The funnel's cohort: a pipeline's deals opened in a period.
            models.Index(
                fields=["pipeline", "created_at", "owner", "department", "id"],
                name="deal_cohort",
            ),
        ]

    def __str__(self):
        return self.title

    def search_text(self) -> str:
        return f"{self.title} {self.notes}"

    def audit_snapshot(self) -> dict:
        """Its fields and its tags by name (read from the link rows themselves)."""
        from kontor.core.services import field_snapshot

        snap = field_snapshot(self)
        if self.pk is None:
            return snap | {"tags": [], "lines": []}
        links = Deal.tags.through.objects.filter(deal_id=self.pk)
        snap["tags"] = sorted(links.values_list("tag__name", flat=True))
        snap["lines"] = [line.audit_text() for line in DealLine.objects.filter(deal_id=self.pk)]
        return snap

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def visible_company(self):
        return visible_link(self, "company")

    @property
    def visible_person(self):
        return visible_link(self, "person")


class StageChange(models.Model):
    """A deal's move into a stage (its first stage too, with no ``from_stage``)."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="+")
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    moved_at = models.DateTimeField(default=timezone.now)
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["moved_at", "id"]
        indexes = [
            models.Index(fields=["deal", "moved_at"], name="stagechange_deal"),
            models.Index(fields=["to_stage", "moved_at"], name="stagechange_to"),
            # The funnel: each deal's moves and where they went.
            models.Index(fields=["deal", "to_stage"], name="stagechange_reach"),
        ]

    def __str__(self):
        return f"{self.deal_id}: {self.from_stage_id} -> {self.to_stage_id}"


class Target(models.Model):
    """A sales plan: what a user or a department should win in a month or a quarter, as
    an amount (in one currency) and/or a count of won deals."""

    class Period(models.TextChoices):
        MONTH = "month", _("month")
        QUARTER = "quarter", _("quarter")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    department = models.ForeignKey(
        settings.KONTOR_DEPARTMENT_MODEL,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    period = models.CharField(_("period"), max_length=8, choices=Period.choices)
    # The period's first day: the 1st of its month, or of its quarter's first month.
    starts_on = models.DateField(_("from"))
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    won_count = models.PositiveIntegerField(_("won deals"), null=True, blank=True)

    class Meta:
        ordering = ["starts_on", "id"]
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(user__isnull=False, department__isnull=True)
                    | models.Q(user__isnull=True, department__isnull=False)
                ),
                name="target_of_user_or_department",
            ),
            models.UniqueConstraint(
                fields=["user", "period", "starts_on"], name="target_user_period"
            ),
            models.UniqueConstraint(
                fields=["department", "period", "starts_on"], name="target_department_period"
            ),
        ]

    def __str__(self):
        return f"{self.user or self.department} {self.period} {self.starts_on}"


class DealLine(models.Model):
    """A product line of a deal: what is sold, how many, at what price, discount and VAT.

    The VAT rate is a copy of the rate's percentage when the line was written, and a
    quote copies the lines again: a rate changed later applies to new documents only.
    """

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    description = models.CharField(_("description"), max_length=255)
    unit = models.CharField(_("unit"), max_length=8, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    discount_percent = models.DecimalField(
        _("discount, %"), max_digits=5, decimal_places=2, default=Decimal("0")
    )
    vat_rate = models.DecimalField(_("VAT, %"), max_digits=5, decimal_places=2)
    # Quantity × unit price less the discount, to the cent (kontor.core.money, rule 1).
    net = models.DecimalField(_("net"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("deal line")
        verbose_name_plural = _("deal lines")
        constraints = [
            models.UniqueConstraint(fields=["deal", "position"], name="deal_line_position"),
        ]

    def __str__(self):
        return f"{self.description} × {self.quantity.normalize():f}"

    def audit_text(self) -> str:
        """The line in one text, as the audit trail shows it."""
        return (
            f"{self.description} × {self.quantity.normalize():f} {self.unit} "
            f"@ {self.unit_price} −{self.discount_percent.normalize():f} % "
            f"VAT {self.vat_rate.normalize():f} % = {self.net}"
        )


class Quote(models.Model):
    """A quote issued from a deal's lines: numbered per year ("Q-2026-0007"), its lines
    and totals frozen as issued, its PDF stored as a document (attachment) on the deal."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="quotes")
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    number = models.CharField(_("number"), max_length=32, unique=True)
    issued_on = models.DateField(_("date"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    net = models.DecimalField(_("net"), max_digits=14, decimal_places=2)
    vat = models.DecimalField(_("VAT"), max_digits=14, decimal_places=2)
    gross = models.DecimalField(_("total"), max_digits=14, decimal_places=2)
    # The lines as printed (description, unit, quantity, unit price, discount, VAT, net).
    lines = models.JSONField(default=list)
    language = models.CharField(_("language"), max_length=8)
    attachment = models.OneToOneField(
        "core.Attachment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-issued_on", "-sequence"]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="quote_year_sequence"),
        ]
        indexes = [models.Index(fields=["deal", "-created_at"], name="quote_deal")]

    def __str__(self):
        return self.number
