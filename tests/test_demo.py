from decimal import Decimal

import pytest

from kontor import demo
from kontor.accounts import services as accounts
from kontor.accounts.models import Department, User
from kontor.contacts import queries
from kontor.contacts.models import Company, Person, Phone
from kontor.core import search
from kontor.core.access import SYSTEM
from kontor.core.models import AuditEntry, SearchDocument
from kontor.documents import services as documents

pytestmark = pytest.mark.django_db

COMPANIES, PEOPLE, DEALS = 60, 150, 400


@pytest.fixture
def loaded():
    messages = []
    summary = demo.load_demo(messages.append, companies=COMPANIES, people=PEOPLE, deals=DEALS)
    return summary, messages


def test_demo_loads_the_company(loaded):
    summary, messages = loaded

    assert "admin@bcompany.example" in summary and "kontor-demo" in summary
    assert f"{DEALS} deals" in summary
    assert len(messages) == 6
    counts = demo.demo_counts()
    assert {k: counts[k] for k in ("departments", "users", "companies", "people")} == {
        "departments": 11,
        "users": 54,
        "companies": COMPANIES,
        "people": PEOPLE,
    }
    # A year of work: about one note, 1.5 calls, half an email and 0.6 tasks a client.
    assert PEOPLE * 0.6 < counts["notes"] < PEOPLE * 1.4
    assert PEOPLE * 1.1 < counts["calls"] < PEOPLE * 1.9
    assert 0 < counts["emails"] < PEOPLE and 0 < counts["tasks"] < PEOPLE
    assert 0 < counts["meetings"] < PEOPLE
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
    counts = demo.demo_counts()
    searchable = (
        "companies",
        "people",
        "tasks",
        "calls",
        "notes",
        "emails",
        "meetings",
        "products",
        "deals",
    )
    assert SearchDocument.objects.count() == sum(counts[name] for name in searchable)
    assert set(
        AuditEntry.objects.filter(object_type="contacts.person").values_list("channel", flat=True)
    ) == {"import"}


def test_demo_sets_the_company_details_printed_on_documents(loaded):
    seller = documents.seller()

    assert seller.name == "B. Company LLC"
    assert seller.iban == "40702810900000012345"


def test_demo_keeps_an_installs_own_company_details():
    documents.update_company_details({"legal_name": "Our Own Ltd"}, actor=SYSTEM)

    demo.load_demo(companies=COMPANIES, people=PEOPLE, deals=DEALS)

    assert documents.seller().name == "Our Own Ltd"


def test_demo_roles_fit_the_positions(loaded):
    staff = User.objects.filter(email__endswith="@bcompany.example").exclude(email=demo.ADMIN_EMAIL)
    assert staff.count() == 53

    def roles(user):
        return sorted(user.roles.values_list("name", flat=True))

    management = list(staff.filter(department__name="Management").order_by("id"))
    assert roles(management[0]) == ["admin"]  # the director
    # Everyone but Purchasing, which keeps it, and the director (an admin) reads the
    # catalog through a demo role.
    for name in ("Sales", "Sales Team North", "Sales Team South", "Support"):
        members = list(staff.filter(department__name=name).order_by("id"))
        assert roles(members[0]) == ["Catalog reader", "head"]
        assert all(roles(m) == ["Catalog reader", "member"] for m in members[1:])
    purchasing = list(staff.filter(department__name="Purchasing").order_by("id"))
    assert roles(purchasing[0]) == ["head"]
    assert all(roles(m) == ["member"] for m in purchasing[1:])
    # Departments that serve every client also look the client base up.
    for name in ("Warehouse", "Accounting", "Logistics"):
        members = list(staff.filter(department__name=name).order_by("id"))
        assert roles(members[0]) == ["Catalog reader", "Client base reader", "head"]
        assert all(
            roles(m) == ["Catalog reader", "Client base reader", "member"] for m in members[1:]
        )


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

    summary = demo.load_demo(companies=COMPANIES, people=PEOPLE, deals=DEALS)

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


@pytest.mark.parametrize("department", ["Warehouse", "Accounting"])
def test_a_member_serving_clients_finds_a_sales_client_by_phone_and_name(loaded, department):
    member = User.objects.filter(department__name=department, roles__name="member").first()
    client = Person.objects.filter(department__name="Sales Team South").first()
    phone = client.phones.first()

    by_phone = search.search_model(member, Person, phone.raw)
    by_name = search.search_model(member, Person, f"{client.last_name} {client.first_name}")

    assert client in by_phone and client in by_name
    assert queries.company(member, client.company_id) == client.company
    # Read-only: looking a client up gives no right to change it.
    assert not queries.people(member, action="edit").filter(pk=client.pk).exists()


def test_demo_loads_alongside_a_department_and_role_named_like_its_own():
    mine = accounts.create_department(name="warehouse", actor=SYSTEM)
    accounts.create_role(name="Client base reader", actor=SYSTEM)

    demo.load_demo(companies=COMPANIES, people=PEOPLE, deals=DEALS)
    again = demo.load_demo(companies=COMPANIES, people=PEOPLE, deals=DEALS)

    assert "already loaded" in again
    counts = demo.demo_counts()
    assert {k: counts[k] for k in ("departments", "users", "companies", "people")} == {
        "departments": 11,
        "users": 54,
        "companies": COMPANIES,
        "people": PEOPLE,
    }
    theirs = Department.objects.get(name="Warehouse (B. Company)")
    assert theirs.parent.name == "B. Company" and theirs.members.count() == 8
    assert not mine.members.exists() and mine.parent is None
    storekeeper = theirs.members.filter(roles__name="member").first()
    assert sorted(storekeeper.roles.values_list("name", flat=True)) == [
        "Catalog reader",
        "Client base reader (B. Company)",
        "member",
    ]


def test_the_catalog_is_purchasings_and_everyone_reads_it(loaded):
    from kontor.catalog import vat
    from kontor.catalog.demo import PRODUCTS
    from kontor.catalog.models import Product, VatRate

    rates = {rate.name: (rate.rate, rate.is_default) for rate in VatRate.objects.all()}
    assert rates == {
        "Standard": (Decimal("19.00"), True),
        "Reduced": (Decimal("7.00"), False),
        "Zero": (Decimal("0.00"), False),
    }
    products = Product.objects.all()
    assert products.count() == len(PRODUCTS) >= 60
    assert set(products.values_list("department__name", "vat_rate_id", "currency")) == {
        ("Purchasing", vat.default_rate().pk, "EUR")
    }
    assert {"bag", "m3", "t", "pallet", "m2", "roll", "pc"} <= set(
        products.values_list("unit", flat=True)
    )
    assert all(p.price > 0 for p in products)
    member = User.objects.filter(department__name="Sales Team South", roles__name="member").first()
    assert Product.objects.visible_to(member).count() == products.count()
