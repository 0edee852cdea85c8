"""Kontor's URLs plus one page showing a chart of every kind (tests/e2e/test_charts.py)."""

from decimal import Decimal

from django.http import HttpResponse
from django.template import RequestContext, Template
from django.urls import include, path

from kontor.web.charts import Chart, Format, Kind, Series

PAGE = Template(
    '{% extends "web/base.html" %}{% load kontor %}'
    "{% block content %}{% for item in charts %}{% chart item %}{% endfor %}{% endblock %}"
)
LABELS = ["Lead", "Offer", "Won"]


def every_kind(request):
    charts = [
        Chart(
            slug=kind.value.replace("_", "-"),
            title=f"A {kind.value} chart",
            kind=kind,
            labels=LABELS,
            series=[
                Series("Amount", [Decimal("1200.50"), Decimal("800"), Decimal("300.25")]),
                *(
                    [Series("Weighted", [Decimal("120"), Decimal("400"), Decimal("300.25")])]
                    if kind in (Kind.STACKED_BAR, Kind.LINE)
                    else []
                ),
            ],
            label_header="Stage",
            value_format=Format.MONEY,
            currency="EUR",
        )
        for kind in Kind
    ]
    return HttpResponse(PAGE.render(RequestContext(request, {"charts": charts})))


urlpatterns = [path("chart-kinds/", every_kind), path("", include("kontor.urls"))]
