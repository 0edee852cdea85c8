"""The chart component (kontor.web.charts, {% chart %}) and the npm files it draws with."""

import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core import checks
from django.http import Http404
from django.template import Context, Template
from django.templatetags.static import static
from django.test import RequestFactory
from django.utils import translation

from kontor.web.charts import Chart, Format, Kind, Series, chart_csv_response, csv_download
from kontor.web.npm import NpmFinder

CHART_JS = "vendor/chart.js/dist/chart.umd.min.js"


def revenue(**changes) -> Chart:
    fields = {
        "slug": "revenue",
        "title": "Revenue by owner",
        "kind": Kind.STACKED_BAR,
        "labels": ["Anna", "<b>Boris</b>"],
        "series": [
            Series("Won", [Decimal("1234.5"), Decimal("-20.00")], ["/deals/?owner_id=1", ""]),
            Series("Open", [Decimal("0.10"), Decimal("999999.99")]),
        ],
        "label_header": "Owner",
        "value_format": Format.MONEY,
        "currency": "EUR",
    }
    return Chart(**(fields | changes))


def rendered(chart: Chart, query: str = "") -> str:
    request = RequestFactory().get("/report/" + query)
    template = Template("{% load kontor %}{% chart chart %}")
    return template.render(Context({"chart": chart, "request": request}))


def csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


# -- the description ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, error",
    [
        ({"slug": "Bad slug"}, ValueError),
        ({"slug": "../x"}, ValueError),
        ({"series": []}, ValueError),
        ({"labels": ["Anna"]}, ValueError),
        ({"series": [Series("Won", [1, 2], ["/a"])]}, ValueError),
        ({"series": [Series("Won", [1.5, 2])]}, TypeError),
        ({"series": [Series("Won", [True, 2])]}, TypeError),
        ({"currency": ""}, ValueError),
        ({"value_format": Format.COUNT}, ValueError),  # a currency on counts
    ],
)
def test_a_chart_that_cannot_be_drawn_right_is_refused_where_it_is_built(changes, error):
    with pytest.raises(error):
        revenue(**changes)


def test_figures_are_written_as_the_readers_language_writes_them():
    chart = revenue()
    assert chart.display(Decimal("1234.5")) == "1,234.50\xa0EUR"
    assert revenue(value_format=Format.COUNT, currency="").display(1234567) == "1,234,567"
    assert (
        revenue(value_format=Format.PERCENT, currency="").display(Decimal("37.24")) == "37.2\xa0%"
    )
    assert revenue(value_format=Format.NUMBER, currency="").display(Decimal("3")) == "3.00"
    # Rounded half away from zero, never cut: 37.26 % is 37.3 %.
    assert (
        revenue(value_format=Format.PERCENT, currency="").display(Decimal("37.26")) == "37.3\xa0%"
    )
    assert chart.display(Decimal("1.005")) == "1.01\xa0EUR"
    assert chart.display(Decimal("-1.005")) == "-1.01\xa0EUR"
    assert chart.display(Decimal("1.2349")) == "1.23\xa0EUR"
    with translation.override("fr"):
        assert chart.display(Decimal("1234.5")) == "1\xa0234,50\xa0EUR"


# -- the partial: title, data for the drawing, table, CSV link ------------------------------


def test_the_partial_shows_the_title_the_table_with_links_and_the_csv_link():
    page = rendered(revenue(), "?period=2026&format=html")
    assert re.search(
        r'<h2 class="card-title chart-title" id="chart-revenue-title">Revenue by owner', page
    )
    assert '<th scope="col">Owner</th>' in page
    assert '<th scope="col" class="num">Won</th><th scope="col" class="num">Open</th>' in page
    # Every figure in the table; a figure with a URL opens the records behind it.
    assert '<a href="/deals/?owner_id=1">1,234.50\xa0EUR</a>' in page
    assert '<td class="num">-20.00\xa0EUR</td>' in page
    assert "999,999.99\xa0EUR" in page and "0.10\xa0EUR" in page
    # User text is escaped in the table.
    assert "&lt;b&gt;Boris&lt;/b&gt;" in page and "<b>Boris</b>" not in page
    # The CSV link keeps the page's own filters, so the file holds the figures shown.
    assert 'href="?chart=revenue&amp;format=csv&amp;period=2026" download' in page
    assert f'data-chart-library="/static/{CHART_JS}"' in page


def test_the_drawing_gets_its_data_through_json_script_not_inline_code():
    page = rendered(revenue(labels=["Anna", "</script><script>alert(1)</script>"]))
    assert page.count("<script") == 1  # json_script's, of type application/json
    found = re.search(
        r'<script id="chart-revenue-data" type="application/json">(.*?)</script>', page, re.S
    )
    data = json.loads(found.group(1))
    assert data["kind"] == "stacked_bar" and data["format"] == "money"
    assert data["currency"] == "EUR" and data["locale"] == "en"
    assert data["labels"][1] == "</script><script>alert(1)</script>"
    won, open_ = data["series"]
    # Exact figures as text (Decimal is not rounded through float on the server).
    assert won["values"] == ["1234.5", "-20.00"] and open_["values"] == ["0.10", "999999.99"]
    assert won["display"] == ["1,234.50\xa0EUR", "-20.00\xa0EUR"]
    assert won["urls"] == ["/deals/?owner_id=1", ""] and open_["urls"] == ["", ""]
    assert 'data-chart="chart-revenue-data"' in page


# -- CSV ------------------------------------------------------------------------------------


def test_the_csv_holds_the_tables_figures_as_numbers():
    response = chart_csv_response(revenue())
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="revenue-\d{4}-\d{2}-\d{2}\.csv"', response["Content-Disposition"]
    )
    assert csv_rows(response) == [
        ["Owner", "Won (EUR)", "Open (EUR)"],
        ["Anna", "1234.5", "0.10"],
        # A negative figure stays a number; only text is neutralised.
        ["<b>Boris</b>", "-20.00", "999999.99"],
    ]


def test_csv_cells_a_spreadsheet_would_run_as_formulas_stay_text():
    chart = revenue(
        labels=['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)"] * 1,
        series=[Series("=cmd|' /C calc'!A0", [1, 2, 3, 4])],
        value_format=Format.COUNT,
        currency="",
        label_header="@who",
    )
    assert csv_rows(chart_csv_response(chart)) == [
        ["'@who", "'=cmd|' /C calc'!A0"],
        ['\'=HYPERLINK("http://x")', "1"],
        ["'+1", "2"],
        ["'-1", "3"],
        ["'@SUM(A1)", "4"],
    ]


def test_a_percent_chart_says_its_unit_in_the_csv_header():
    chart = revenue(
        series=[Series("Win rate", [Decimal("12.5"), Decimal("100")])],
        value_format=Format.PERCENT,
        currency="",
    )
    assert csv_rows(chart_csv_response(chart))[0] == ["Owner", "Win rate (%)"]


def test_a_page_answers_its_csv_link_with_the_chart_it_names():
    charts = [revenue(), revenue(slug="other", title="Other")]
    factory = RequestFactory()
    assert csv_download(factory.get("/report/?period=2026"), charts) is None
    response = csv_download(factory.get("/report/?format=csv&chart=other"), charts)
    assert 'filename="other-' in response["Content-Disposition"]
    for unknown in ("?format=csv&chart=nope", "?format=csv"):
        with pytest.raises(Http404):
            csv_download(factory.get("/report/" + unknown), charts)


# -- the library, from npm ------------------------------------------------------------------


def test_the_chart_library_is_installed_and_found_as_a_static_file():
    # Fails when `npm ci` has not run: scripts/start and scripts/test run it.
    found = finders.find(CHART_JS)
    assert found, "run `npm ci` in the repository root"
    assert Path(found).read_text()[:200].count("Chart.js v4.") == 1
    assert not checks.run_checks(tags=[checks.Tags.staticfiles])


def test_only_the_named_files_of_a_package_are_published():
    listed = [f"{storage.prefix}/{path}" for path, storage in NpmFinder().list(None)]
    assert listed == [CHART_JS]
    assert not finders.find("vendor/chart.js/dist/chart.js")
    assert not finders.find("vendor/chart.js/package.json")


def test_a_missing_install_is_a_system_check_error(settings, tmp_path):
    settings.KONTOR_NODE_MODULES = tmp_path
    errors = NpmFinder().check()
    assert [e.id for e in errors] == ["web.E001"]
    assert "chart.js/dist/chart.umd.min.js" in errors[0].msg and "npm ci" in errors[0].hint
    assert list(NpmFinder().list(None)) == []


def test_the_library_and_the_drawing_script_are_served(client, org):
    response = client.get(static(CHART_JS))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    client.force_login(org.member_a)
    page = client.get("/").content.decode()
    assert '<script src="/static/web/charts.js" defer></script>' in page
    assert client.get("/static/web/charts.js").status_code == 200
