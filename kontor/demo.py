"""The demo company: "B. Company", a building-materials trader founded in 1998.

``kontor demo`` loads it: 53 employees in a department tree with the built-in roles,
about 2,000 client companies (builders, retailers, developers) and 5,000 of their people,
owned by the sales teams and support, a year of their work, a catalog, and three years
of sales (20,000 deals in three pipelines, this year's plans: ``kontor.sales.demo``).
Names come from Faker with a fixed seed, so every install gets the same company.
Loading twice changes nothing: the demo admin's login marks a database that has it. It
loads alongside an install's own data: a department, role or pipeline whose name is
taken gets the suffix " (B. Company)".

Staff and departments go through the accounts services, clients through the bulk import
service (kontor.core.bulk): the same rules, audit and search index as any import.
"""

from __future__ import annotations

import datetime
import random
import time
import unicodedata
from collections.abc import Callable

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kontor.accounts import services as accounts
from kontor.accounts.models import Department, Role, User
from kontor.activities import demo as activities_demo
from kontor.activities.models import Call, EmailMessage, Note, Task
from kontor.calendar import demo as calendar_demo
from kontor.calendar.models import Meeting
from kontor.catalog import demo as catalog_demo
from kontor.catalog.models import Product
from kontor.contacts import bulk
from kontor.contacts.models import Company, Person
from kontor.core.access import SYSTEM, Action, Scope
from kontor.core.bulk import ImportResult
from kontor.core.context import Channel, acting
from kontor.documents import demo as documents_demo
from kontor.sales import demo as sales_demo
from kontor.sales.models import Deal, Target

DEMO_DOMAIN = "bcompany.example"
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
DEMO_PASSWORD = "kontor-demo"
ROOT = "B. Company"
SEED = 1998

# (department, parent, employees, head's title, others' title); the first employee of
# each department is its head. 53 people in all.
DEPARTMENTS = [
    ("Management", ROOT, 3, "Managing director", "Assistant to the director"),
    ("Sales", ROOT, 1, "Head of sales", "Sales manager"),
    ("Sales Team North", "Sales", 8, "Team lead North", "Sales manager"),
    ("Sales Team South", "Sales", 8, "Team lead South", "Sales manager"),
    ("Purchasing", ROOT, 5, "Head of purchasing", "Buyer"),
    ("Warehouse", ROOT, 8, "Warehouse manager", "Storekeeper"),
    ("Logistics", ROOT, 6, "Head of logistics", "Dispatcher"),
    ("Accounting", ROOT, 5, "Chief accountant", "Accountant"),
    ("Support", ROOT, 6, "Head of customer service", "Customer service agent"),
    ("Marketing", ROOT, 3, "Head of marketing", "Marketing specialist"),
]
# Who owns clients, and the share of clients each department holds.
CLIENT_DEPARTMENTS = {"Sales Team North": 0.45, "Sales Team South": 0.45, "Support": 0.10}
# The built-in "member" sees only their own department's records. These departments
# serve every client (invoices, pick-ups, deliveries) without owning any, so their staff
# also hold a demo role that looks the whole client base up, read-only.
CLIENT_BASE_READER = "Client base reader"
CLIENT_BASE_READERS = ("Accounting", "Warehouse", "Logistics")
CLIENT_TYPES = ("contacts.company", "contacts.person")

# Per industry, the words a client's name ends with in each of the demo's languages.
INDUSTRIES = {
    "Construction": {
        "en_US": ["Construction", "Builders"],
        "ru_RU": ["Строй", "СтройГрупп"],
        "de_DE": ["Bau", "Bauunternehmung"],
    },
    "Building materials retail": {
        "en_US": ["Supply", "Depot"],
        "ru_RU": ["Стройторг", "Стройснаб"],
        "de_DE": ["Baustoffe", "Baumarkt"],
    },
    "Real estate development": {
        "en_US": ["Development", "Homes"],
        "ru_RU": ["Девелопмент", "Недвижимость"],
        "de_DE": ["Immobilien", "Projektbau"],
    },
    "Roofing": {
        "en_US": ["Roofing"],
        "ru_RU": ["Кровля"],
        "de_DE": ["Dach", "Bedachungen"],
    },
    "Interior finishing": {
        "en_US": ["Interiors"],
        "ru_RU": ["Отделка", "Интерьер"],
        "de_DE": ["Ausbau", "Innenausbau"],
    },
    "Civil engineering": {
        "en_US": ["Engineering", "Infrastructure"],
        "ru_RU": ["Инжиниринг", "Инфраструктура"],
        "de_DE": ["Tiefbau", "Ingenieurbau"],
    },
}
POSITIONS = [
    "Owner",
    "Managing director",
    "Purchasing manager",
    "Procurement specialist",
    "Chief engineer",
    "Site foreman",
    "Project manager",
    "Chief accountant",
    "Estimator",
    "Architect",
    "Office manager",
]
SOURCES = ["website", "trade fair", "referral", "cold call", "advertising", "repeat customer"]
TAGS = ["VIP", "key account", "wholesale", "new", "developer", "retail"]
OCCASIONS = ["Wedding anniversary", "Name day", "Company founding day", "First order"]
LOCALES = {
    "en_US": ("US", "com", "LLC"),
    "ru_RU": ("RU", "ru", "OOO"),
    "de_DE": ("DE", "de", "GmbH"),
}


def load_demo(
    progress: Callable[[str], None] | None = None,
    *,
    companies: int = 2000,
    people: int = 5000,
    deals: int = 20000,
) -> str:
    """Load B. Company unless it is there already; return a summary to print."""
    say = progress or (lambda message: None)
    if User.objects.filter(email=ADMIN_EMAIL).exists():
        return _("B. Company is already loaded; nothing changed.") + "\n" + _login_text()
    started = time.perf_counter()
    rng = random.Random(SEED)
    fake = _faker()
    # One transaction: a load cut short leaves no half company behind the marker.
    with transaction.atomic(), acting(Channel.SYSTEM):
        say(_("Creating departments and %(count)d employees…") % {"count": _staff_count()})
        staff = _create_staff(fake)
        owners = {name: staff[name] for name in CLIENT_DEPARTMENTS}
        say(_("Importing %(count)d client companies…") % {"count": companies})
        company_rows = list(_company_rows(companies, fake, rng, owners))
        created = bulk.import_companies(company_rows, actor=SYSTEM)
        _refuse_rejected_rows(created)
        employers = [
            (pk, row["owner_id"], row["department_id"], row["_domain"], row["_locale"])
            for pk, row in zip(created.ids, company_rows, strict=True)
        ]
        say(_("Importing %(count)d people…") % {"count": people})
        person_rows = list(_person_rows(people, fake, rng, owners, employers))
        person_result = bulk.import_people(person_rows, actor=SYSTEM)
        _refuse_rejected_rows(person_result)
        say(_("Writing a year of tasks, calls, meetings, notes and emails…"))
        clients = [
            activities_demo.Client(
                pk,
                row["owner_id"],
                row["department_id"],
                row["emails"][0]["address"],
                row["phones"][0]["number"],
            )
            for pk, row in zip(person_result.ids, person_rows, strict=True)
        ]
        activities_demo.load(clients, rng)
        calendar_demo.load(clients, rng)
        say(
            _("Adding the VAT rates and %(count)d products…")
            % {"count": len(catalog_demo.PRODUCTS)}
        )
        catalog_demo.load(staff[catalog_demo.KEEPER][0])
        documents_demo.load()
        say(
            _("Writing %(count)d deals of three years and this year's sales plans…")
            % {"count": deals}
        )
        sales_demo.load(
            admin=User.objects.get(email=ADMIN_EMAIL),
            staff=staff,
            companies=[
                sales_demo.Client(pk, row["owner_id"], industry=row["industry"])
                for pk, row in zip(created.ids, company_rows, strict=True)
            ],
            people=[
                sales_demo.Client(pk, row["owner_id"], company_id=row["company_id"])
                for pk, row in zip(person_result.ids, person_rows, strict=True)
            ],
            rng=rng,
            deals=deals,
            free_name=_free_name,
        )
    seconds = time.perf_counter() - started
    return (
        _(
            "Loaded B. Company in %(seconds).1f s: %(departments)d departments, "
            "%(users)d users, %(companies)d companies, %(people)d people, %(tasks)d tasks, "
            "%(calls)d calls, %(notes)d notes, %(emails)d emails, %(meetings)d meetings, "
            "%(products)d products, %(deals)d deals, %(targets)d sales targets."
        )
        % {"seconds": seconds, **demo_counts()}
        + "\n"
        + _login_text()
    )


def _refuse_rejected_rows(result: ImportResult) -> None:
    # Demo data is ours: a rejected row is a bug here, not bad input.
    if result.errors:
        raise RuntimeError(f"demo data rejected: {result.errors[:5]}")


def _login_text() -> str:
    return _(
        "Log in as %(email)s with the password %(password)s (every employee too: "
        "first.last@%(domain)s, same password)."
    ) % {"email": ADMIN_EMAIL, "password": DEMO_PASSWORD, "domain": DEMO_DOMAIN}


def _faker():
    from faker import Faker

    fake = Faker(list(LOCALES))
    fake.seed_instance(SEED)
    return fake


def _staff_count() -> int:
    return sum(count for _n, _p, count, _h, _o in DEPARTMENTS)


_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya".split(),
        strict=True,
    )
)


def _ascii(text: str) -> str:
    """Lower-case Latin letters for logins and mailboxes ("Ермаков" -> "ermakov")."""
    text = "".join(_CYRILLIC.get(c, c) for c in text.lower().replace("ß", "ss"))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    # Only letters and digits: names like "Hans D." or "O'Neil" make no valid mailbox.
    return "".join(c for c in text if c.isalnum())


def _free_name(model, name: str) -> str:
    """``name``, or "name (B. Company)" if the install already has a department or role so called.

    The demo never moves into an install's own "Warehouse": its staff and grants would
    land in a real department and the demo's tree would lose a branch.
    """
    candidates = [name, f"{name} ({ROOT})"]
    candidates += (f"{name} ({ROOT} {n})" for n in range(2, 100))
    return next(c for c in candidates if not model.objects.filter(name__iexact=c).exists())


def _create_staff(fake) -> dict[str, list[User]]:
    """Departments, the demo admin and the 53 employees; heads get "head", the director "admin".

    Returns the employees by the demo's name of their department.
    """
    roles = {name: accounts.role_named(name) for name in ("admin", "head", "member")}
    client_base_reader = accounts.create_role(
        name=_free_name(Role, CLIENT_BASE_READER),
        description="Looks up every client company and person, read-only.",
        grants=[(object_type, Action.VIEW, Scope.ALL) for object_type in CLIENT_TYPES],
        actor=SYSTEM,
    )
    # The catalog is Purchasing's; everyone else reads it through this role.
    catalog_reader = accounts.create_role(
        name=_free_name(Role, catalog_demo.READER),
        description=catalog_demo.READER_DESCRIPTION,
        grants=catalog_demo.READER_GRANTS,
        actor=SYSTEM,
    )
    departments = {
        ROOT: accounts.create_department(name=_free_name(Department, ROOT), actor=SYSTEM)
    }
    for name, parent, *_rest in DEPARTMENTS:
        departments[name] = accounts.create_department(
            name=_free_name(Department, name), parent=departments[parent], actor=SYSTEM
        )
    admin = accounts.create_user(
        email=ADMIN_EMAIL,
        password=DEMO_PASSWORD,
        first_name="Demo",
        last_name="Admin",
        department=departments["Management"],
        roles=[roles["admin"]],
        actor=SYSTEM,
    )
    # Taken mailboxes of the demo's domain (none, unless someone made one by hand).
    emails = set(
        User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").values_list("email", flat=True)
    )
    staff: dict[str, list[User]] = {}
    hired = 0
    # Logins need ASCII names, so staff come from the Latin-script locales.
    locales = [fake["en_US"], fake["de_DE"]]
    for name, _parent, count, _head_title, _title in DEPARTMENTS:
        for n in range(count):
            local = locales[hired % 2]
            hired += 1
            first, last = local.first_name(), local.last_name()
            email = f"{_ascii(first)}.{_ascii(last)}@{DEMO_DOMAIN}"
            while email in emails:
                email = email.replace("@", "1@")
            emails.add(email)
            if name == "Management" and n == 0:
                role = roles["admin"]
            else:
                role = roles["head"] if n == 0 else roles["member"]
            extra = [client_base_reader] if name in CLIENT_BASE_READERS else []
            if name != catalog_demo.KEEPER and role != roles["admin"]:
                extra.append(catalog_reader)
            staff.setdefault(name, []).append(
                accounts.create_user(
                    email=email,
                    password=None,
                    first_name=first,
                    last_name=last,
                    department=departments[name],
                    roles=[role, *extra],
                    actor=SYSTEM,
                )
            )
    # One password hash for all: hashing it 53 times (PBKDF2, ~0.25 s each) would make
    # the demo wait a quarter of a minute for identical results.
    User.objects.filter(pk__in=[u.pk for users in staff.values() for u in users]).update(
        password=admin.password
    )
    return staff


def _date(rng: random.Random, first_year: int, last_year: int) -> datetime.date:
    start = datetime.date(first_year, 1, 1).toordinal()
    end = datetime.date(last_year, 12, 31).toordinal()
    return datetime.date.fromordinal(rng.randint(start, end))


def _phone(rng: random.Random, country: str) -> str:
    """A number in one of the ways people of ``country`` type them."""
    if country == "RU":
        code, rest = rng.choice(["916", "903", "925", "495", "812", "343"]), rng.randint(0, 9999999)
        digits = f"{rest:07d}"
        return rng.choice(
            [
                f"+7 {code} {digits[:3]}-{digits[3:5]}-{digits[5:]}",
                f"8 ({code}) {digits[:3]}-{digits[3:5]}-{digits[5:]}",
                f"8{code}{digits}",
                f"+7{code}{digits}",
            ]
        )
    if country == "DE":
        area = rng.choice(["30", "40", "89", "221", "69", "151", "170"])
        number = f"{rng.randint(1000000, 9999999)}"
        return rng.choice(
            [f"+49 {area} {number}", f"+49 ({area}) {number}", f"+49-{area}-{number}"]
        )
    area = rng.choice(["212", "312", "415", "617", "713"])
    return f"+1 ({area}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}"


def _placement(rng: random.Random, owners: dict[str, list[User]]) -> User:
    department = rng.choices(list(CLIENT_DEPARTMENTS), weights=CLIENT_DEPARTMENTS.values())[0]
    return rng.choice(owners[department])


def _company_rows(count: int, fake, rng: random.Random, owners):
    locale_names = list(LOCALES)
    for i in range(count):
        locale = locale_names[i % len(locale_names)]
        country, tld, legal_form = LOCALES[locale]
        local = fake[locale]
        industry = rng.choice(list(INDUSTRIES))
        surname = local.last_name_male() if locale == "ru_RU" else local.last_name()
        name = f"{surname} {rng.choice(INDUSTRIES[industry][locale])}"
        slug = _ascii(name) or f"client{i}"
        domain = f"{slug}{i}.{tld}"
        owner = _placement(rng, owners)
        if country == "RU":
            tax_id = f"{rng.randint(10**9, 10**10 - 1)}"
        elif country == "DE":
            tax_id = f"DE{rng.randint(10**8, 10**9 - 1)}"
        else:
            tax_id = f"{rng.randint(10, 99)}-{rng.randint(10**6, 10**7 - 1)}"
        yield {
            "name": name,
            "legal_name": f"{legal_form} {name}" if country == "RU" else f"{name} {legal_form}",
            "tax_id": tax_id,
            "industry": industry,
            "website": f"https://www.{domain}",
            "phones": [{"kind": "work", "number": _phone(rng, country)}],
            "emails": [{"kind": "work", "address": f"info@{domain}"}],
            "addresses": [
                {
                    "kind": "office",
                    "street": local.street_address(),
                    "city": local.city(),
                    "postal_code": local.postcode(),
                    "country": country,
                }
            ],
            "tags": rng.sample(TAGS, k=rng.choice([0, 0, 1, 2])),
            "notes": rng.choice(["", "", f"Client since {rng.randint(1998, 2025)}."]),
            "owner_id": owner.pk,
            "department_id": owner.department_id,
            "_domain": domain,
            "_locale": locale,
        }


def _person_rows(count: int, fake, rng: random.Random, owners, employers):
    locale_names = list(LOCALES)
    for i in range(count):
        # Most people work for a client company, in its country; some are private clients.
        employer = rng.choice(employers) if employers and rng.random() < 0.85 else None
        locale = employer[4] if employer else locale_names[rng.randrange(len(locale_names))]
        country = LOCALES[locale][0]
        local = fake[locale]
        female = rng.random() < 0.4
        if locale == "ru_RU":
            first = local.first_name_female() if female else local.first_name_male()
            last = local.last_name_female() if female else local.last_name_male()
            middle = local.middle_name_female() if female else local.middle_name_male()
        else:
            first = local.first_name_female() if female else local.first_name_male()
            last, middle = local.last_name(), ""
        if employer:
            company_id, owner_id, department_id, domain, _locale = employer
            email = f"{_ascii(first)[:1]}.{_ascii(last)}@{domain}"
        else:
            owner = _placement(rng, owners)
            company_id, owner_id, department_id = None, owner.pk, owner.department_id
            email = f"{_ascii(first)}.{_ascii(last)}{i}@mail.example"
        row = {
            "first_name": first,
            "middle_name": middle,
            "last_name": last,
            "position": rng.choice(POSITIONS) if company_id else "",
            "company_id": company_id,
            "birthday": _date(rng, 1955, 2000) if rng.random() < 0.8 else None,
            "source": rng.choice(SOURCES),
            "phones": [{"kind": "mobile", "number": _phone(rng, country)}],
            "emails": [{"kind": "work", "address": email}],
            "tags": rng.sample(TAGS, k=rng.choice([0, 0, 0, 1])),
            "owner_id": owner_id,
            "department_id": department_id,
        }
        if rng.random() < 0.3:
            row["phones"].append({"kind": "work", "number": _phone(rng, country)})
        family = []
        if rng.random() < 0.5:
            spouse_female = not female
            spouse = local.first_name_female() if spouse_female else local.first_name_male()
            family.append(
                {
                    "relation": "wife" if spouse_female else "husband",
                    "name": spouse,
                    "birthday": _date(rng, 1955, 2000),
                }
            )
        for _child in range(rng.choice([0, 0, 1, 2])):
            daughter = rng.random() < 0.5
            family.append(
                {
                    "relation": "daughter" if daughter else "son",
                    "name": local.first_name_female() if daughter else local.first_name_male(),
                    "birthday": _date(rng, 1985, 2022),
                }
            )
        row["family"] = family
        if rng.random() < 0.2:
            row["important_dates"] = [
                {"label": rng.choice(OCCASIONS), "date": _date(rng, 1998, 2025)}
            ]
        yield row


def demo_counts() -> dict[str, int]:
    """Records of the demo company, for the summary and for tests."""
    departments = _demo_departments()
    return {
        "departments": departments.count(),
        "users": User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").count(),
        "companies": Company.objects.filter(department__in=departments).count(),
        "people": Person.objects.filter(department__in=departments).count(),
        **{
            name: model.objects.filter(department__in=departments).count()
            for name, model in (
                ("tasks", Task),
                ("calls", Call),
                ("notes", Note),
                ("emails", EmailMessage),
                ("meetings", Meeting),
                ("products", Product),
                ("deals", Deal),
            )
        },
        "targets": Target.objects.filter(
            Q(department__in=departments) | Q(user__department__in=departments)
        ).count(),
    }


def _demo_departments():
    """The demo's tree: the one holding its admin, whatever its departments are called."""
    admin = User.objects.filter(email=ADMIN_EMAIL).select_related("department").first()
    if admin is None or admin.department is None:
        return Department.objects.none()
    root_id = admin.department.path.split("/")[1]
    return Department.objects.filter(path__startswith=f"/{root_id}/")
