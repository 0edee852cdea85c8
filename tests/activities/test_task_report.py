"""The tasks report: its figures are the reader's own tasks, each links to the list behind it."""

import csv
import io
import re

import pytest
from django.urls import reverse

from kontor.activities import services

from ..utils.clients import browser

pytestmark = pytest.mark.django_db

REPORT = reverse("activities:task_report")


@pytest.fixture
def tasks(org):
    """Team 1: Anna 2 open, 1 in progress, 1 done; Boris 1 open, 2 cancelled.
    Team 2: Clara 3 open, 1 done (outside Team 1's scope)."""
    made = {
        org.member_a: ["open", "open", "in_progress", "done"],
        org.member_b: ["open", "cancelled", "cancelled"],
        org.member_c: ["open", "open", "open", "done"],
    }
    for user, statuses in made.items():
        for number, status in enumerate(statuses):
            services.create_task({"title": f"{user.email} {number}", "status": status}, actor=user)


def table(page: str, slug: str) -> list[list[str]]:
    """The chart's table as text, one list per row (figures as shown, links dropped)."""
    section = re.search(rf'<section class="card chart" id="chart-{slug}".*?</section>', page, re.S)
    body = section.group(0).split("<tbody>")[1]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def links(page: str, slug: str) -> list[tuple[str, str]]:
    section = re.search(rf'<section class="card chart" id="chart-{slug}".*?</section>', page, re.S)
    body = section.group(0).split("<tbody>")[1]
    return [
        (href.replace("&amp;", "&"), text)
        for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', body)
    ]


def listed_count(client, url: str) -> int:
    """How many tasks the list behind a link shows (a row's select box each; one page here)."""
    page = client.get(url).content.decode()
    return len(re.findall(r'name="ids"', page))


def test_a_member_sees_figures_of_their_departments_tasks_only(org, tasks):
    page = browser(org.member_a).get(REPORT).content.decode()
    assert table(page, "tasks-by-status") == [
        ["Open", "3"],
        ["In progress", "1"],
        ["Done", "1"],
        ["Cancelled", "2"],
    ]
    # Anna has 3 to do (2 open, 1 in progress), Boris 1; Clara's tasks are not in scope.
    assert table(page, "tasks-to-do-by-assignee") == [
        ["anna@example.com", "2", "1"],
        ["boris@example.com", "1", "0"],
    ]
    assert "clara" not in page


def test_an_admin_sees_every_department(org, tasks):
    page = browser(org.admin).get(REPORT).content.decode()
    assert table(page, "tasks-by-status") == [
        ["Open", "6"],
        ["In progress", "1"],
        ["Done", "2"],
        ["Cancelled", "2"],
    ]
    assert [row[0] for row in table(page, "tasks-to-do-by-assignee")] == [
        "anna@example.com",  # 3 to do, as Clara: by name
        "clara@example.com",
        "boris@example.com",
    ]


def test_each_figure_opens_the_list_of_exactly_those_tasks(org, tasks):
    client = browser(org.member_a)
    page = client.get(REPORT).content.decode()
    found = links(page, "tasks-by-status") + links(page, "tasks-to-do-by-assignee")
    assert ("/tasks/?status=open", "3") in found
    assert (f"/tasks/?owner_id={org.member_a.pk}&status=in_progress", "1") in found
    for url, figure in found:
        assert listed_count(client, url) == int(figure), url


def test_the_csv_download_holds_the_tables_figures(org, tasks):
    client = browser(org.member_a)
    response = client.get(REPORT, {"format": "csv", "chart": "tasks-to-do-by-assignee"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [
        ["Assignee", "Open", "In progress"],
        ["anna@example.com", "2", "1"],
        ["boris@example.com", "1", "0"],
    ]
    assert client.get(REPORT, {"format": "csv", "chart": "nope"}).status_code == 404


def test_the_tasks_list_links_to_its_report(org):
    page = browser(org.member_a).get(reverse("activities:task_list")).content.decode()
    assert f'<a class="btn" href="{REPORT}">Report</a>' in page
