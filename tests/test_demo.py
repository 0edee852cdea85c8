import pytest

from kontor import demo
from kontor.accounts.models import Department, User
from kontor.contacts import queries
from kontor.contacts.models import Company, Person, Phone
from kontor.core.models import AuditEntry, SearchDocument

pytestmark = pytest.mark.django_db

COMPANIES, PEOPLE = 60, 150


@pytest.fixture
def loaded():
    messages = []
    summary = demo.load_demo(messages.append, companies=COMPANIES, people=PEOPLE)
    return summary, messages


def test_demo_loads_the_company(loaded):
    summary, messages = loaded

    assert "admin@bcompany.example" in summary and "kontor-demo" in summary
    assert len(messages) == 3
    assert demo.demo_counts() == {
        "departments": 11,
        "users": 54,
        "companies": COMPANIES,
        "people": PEOPLE,
    }
    sales = Department.objects.get(name="Sales")
    assert sales.parent.name == "B. Company"
    assert set(sales.children.values_list("name", flat=True)) == {
        "Sales Team North",
        "Sales Team South",
    }
    assert Department.objects.get(name="Marketing").parent.name == "B. Company"
    # Every client has a typed phone stored in E.164 and a search document.
    assert not Phone.objects.filter(e164="").exists()
    assert Phone.objects.filter(person__isnull=False).count() >= PEOPLE
    assert SearchDocument.objects.count() == COMPANIES + PEOPLE
    assert set(
        AuditEntry.objects.filter(object_type="contacts.person").values_list("channel", flat=True)
    ) == {"import"}


def test_demo_roles_fit_the_positions(loaded):
    staff = User.objects.filter(email__endswith="@bcompany.example").exclude(email=demo.ADMIN_EMAIL)
    assert staff.count() == 53

    def roles(user):
        return sorted(user.roles.values_list("name", flat=True))

    management = list(staff.filter(department__name="Management").order_by("id"))
    assert roles(management[0]) == ["admin"]  # the director
    for name in ("Sales", "Sales Team North", "Sales Team South", "Warehouse", "Accounting"):
        members = list(staff.filter(department__name=name).order_by("id"))
        assert roles(members[0]) == ["head"]
        assert all(roles(m) == ["member"] for m in members[1:])


def test_demo_logins_work(loaded):
    admin = User.objects.get(email=demo.ADMIN_EMAIL)
    assert admin.check_password(demo.DEMO_PASSWORD)
    assert admin.roles.get().name == "admin"
    employee = User.objects.filter(department__name="Logistics").first()
    first, last = employee.email.split("@")[0].split(".")
    assert employee.email.endswith("@bcompany.example") and first and last
    assert employee.check_password(demo.DEMO_PASSWORD)


def test_demo_twice_changes_nothing(loaded):
    before = (
        demo.demo_counts(),
        AuditEntry.objects.count(),
        Person.objects.count(),
        Company.objects.count(),
        User.objects.count(),
    )

    summary = demo.load_demo(companies=COMPANIES, people=PEOPLE)

    assert "already loaded" in summary
    after = (
        demo.demo_counts(),
        AuditEntry.objects.count(),
        Person.objects.count(),
        Company.objects.count(),
        User.objects.count(),
    )
    assert after == before


def test_a_sales_member_sees_only_their_departments_clients(loaded):
    north = Department.objects.get(name="Sales Team North")
    member = User.objects.filter(department=north, roles__name="member").first()

    visible = queries.companies(member)

    assert visible.count() == Company.objects.filter(department=north).count() > 0
    assert set(visible.values_list("department__name", flat=True)) == {"Sales Team North"}
    people = queries.people(member)
    assert set(people.values_list("department__name", flat=True)) == {"Sales Team North"}
    south_person = Person.objects.filter(department__name="Sales Team South").first()
    assert not people.filter(pk=south_person.pk).exists()
    head = User.objects.get(department__name="Sales", roles__name="head")
    assert (
        queries.companies(head).count()
        == Company.objects.filter(department__name__startswith="Sales Team").count()
    )
