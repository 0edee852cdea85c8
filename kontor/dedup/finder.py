"""Finding duplicate people and companies: exact contact points and fuzzy names.

Exact reasons are SQL groups: the same normalised email, E.164 phone or (companies)
tax id held by 2..``MAX_BLOCK`` records; a value shared by more (a switchboard number,
``info@``) names no one in particular and is passed over. Names are compared with
rapidfuzz within *blocks*: a record joins the block of each name token's first
``KEY_LENGTH`` letters, transliterated to Latin (``anyascii``), so "Пётр Иванов",
"Petr Ivanov" and "Ivanov Piotr" share a block. A block of at most ``MAX_BLOCK``
records is compared all against all; a larger one (a common first name) by its sorted
neighbourhood: each name against the next ``WINDOW`` names in order. Comparisons per
record are thus bounded, and memory holds only the block keys' ids, not the names:
names are read again a batch of blocks at a time.

A name alone is not enough: among many records most alike names belong to namesakes,
two people called "Ivan Petrov". A name pair is offered only with a second signal, a
fact both records share besides the name (``name_pair_reasons``): for people the same
employer, birthday, address, email, phone, work email domain or phone ending; for
companies the same city, website, email, phone, email domain or phone ending, or the
very same name once legal forms are dropped. A fact known on both sides and different
(two birthdays, two tax ids) says they are two, whatever else they share.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from anyascii import anyascii
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from rapidfuzz import fuzz, process

from kontor.contacts.models import Address, Company, Email, Person, Phone

from .models import REASON_BITS, Candidate, Reason

KEY_LENGTH = 4
MAX_BLOCK = 100
WINDOW = 10
READ_CHUNK = 2000
# Words that say what a company is, not which: "ООО Ромашка" is "Romashka".
LEGAL_FORMS = frozenset(
    "ooo oao zao pao ao ip llc ltd inc corp co gmbh ag sa sas sarl sarlu eurl plc bv nv".split()
)
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True)
class Spec:
    """How one type's records are found alike."""

    object_type: str
    model: type
    name_fields: tuple[str, ...]
    owner_field: str  # the contact points' link to the record
    tax_id: bool
    stop_words: frozenset = frozenset()
    # The record's own fields that second a name, each as the reason it gives.
    fact_fields: tuple[tuple[str, str], ...] = ()
    # What a shared postal address says: the same address (people: a city is shared by
    # most clients of a region, namesakes included) or the same city (companies).
    place: str = Reason.ADDRESS
    # Facts that, known on both sides and different, make two records two.
    vetoes: tuple[str, ...] = ()
    # Companies: the same name once legal forms are dropped seconds itself (a firm's
    # name is chosen to be told apart; a person's is not).
    same_name_suffices: bool = False


SPECS = {
    "contacts.person": Spec(
        "contacts.person",
        Person,
        ("first_name", "middle_name", "last_name"),
        "person",
        False,
        fact_fields=(("company_id", Reason.EMPLOYER), ("birthday", Reason.BIRTHDAY)),
        vetoes=(Reason.BIRTHDAY,),
    ),
    "contacts.company": Spec(
        "contacts.company",
        Company,
        ("name",),
        "company",
        True,
        LEGAL_FORMS,
        fact_fields=(("tax_id", Reason.TAX_ID), ("website", Reason.WEBSITE)),
        place=Reason.CITY,
        vetoes=(Reason.TAX_ID,),
        same_name_suffices=True,
    ),
}


def name_key(spec: Spec, *parts: str) -> str:
    """A name as compared: Latin letters and digits, lower case, tokens sorted."""
    text = _NOT_ALNUM.sub(" ", anyascii(" ".join(p for p in parts if p)).lower())
    return " ".join(sorted(t for t in text.split() if t not in spec.stop_words))


def block_keys(name: str) -> set[str]:
    return {token[:KEY_LENGTH] for token in name.split() if len(token) >= 2}


# A name pair, even seconded, is less certain than a shared email, phone or tax id: it
# scores below them (100), so those pairs come first in the list.
NAME_ONLY_MAX = 99
FLUSH_PAIRS = 20_000
ROWS_PER_INSERT = 500


class Pairs:
    """Pairs found and not yet written: (first, second) -> (score, reason bits).

    Written to ``Candidate`` every ``FLUSH_PAIRS`` pairs by one upsert per 500 (the
    score the best, the reasons united with those this scan wrote before), so memory
    holds one batch whatever the number of pairs: a scan of a million people with
    common names finds millions.
    """

    def __init__(self, object_type: str, scan_started):
        self.object_type, self.scan_started = object_type, scan_started
        self.pending: dict[tuple[int, int], tuple[int, int]] = {}
        self.written = 0

    def add(self, a: int, b: int, score: int, *reasons: str) -> None:
        if a == b:
            return
        key = (a, b) if a < b else (b, a)
        old_score, bits = self.pending.get(key, (0, 0))
        for reason in reasons:
            bits |= REASON_BITS[reason]
        self.pending[key] = (max(old_score, score), bits)
        if len(self.pending) >= FLUSH_PAIRS:
            self.flush()

    def flush(self) -> None:
        rows = [(*key, *value) for key, value in self.pending.items()]
        self.pending = {}
        for start in range(0, len(rows), ROWS_PER_INSERT):
            _upsert(self.object_type, rows[start : start + ROWS_PER_INSERT], self.scan_started)
        self.written += len(rows)


def _upsert(object_type: str, rows: list[tuple], scan_started) -> None:
    """Write pairs: a pair this scan wrote before keeps its best score and gathers its
    reasons; one from an earlier scan takes this scan's (a reason may no longer hold);
    a dismissed pair stays dismissed."""
    table = connection.ops.quote_name(Candidate._meta.db_table)
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    found = connection.ops.adapt_datetimefield_value(scan_started)
    same_scan = f"{table}.found_at = excluded.found_at"
    sql = (
        f"INSERT INTO {table} (object_type, first_id, second_id, score, reasons, found_at) "
        f"VALUES {', '.join(['(%s, %s, %s, %s, %s, %s)'] * len(rows))} "
        "ON CONFLICT (object_type, first_id, second_id) DO UPDATE SET "
        f"score = CASE WHEN {same_scan} THEN {greatest}({table}.score, excluded.score) "
        "ELSE excluded.score END, "
        f"reasons = CASE WHEN {same_scan} THEN {table}.reasons | excluded.reasons "
        "ELSE excluded.reasons END, "
        "found_at = excluded.found_at"
    )
    params = [value for row in rows for value in (object_type, *row, found)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _exact(pairs: Pairs, rows, value_field: str, owner_field: str, reason: str) -> None:
    """Pairs of records sharing a value of ``value_field`` (a bounded group each)."""
    rows = rows.exclude(**{value_field: ""}).exclude(**{f"{owner_field}__isnull": True})
    groups = (
        rows.values(value_field)
        .annotate(holders=Count(owner_field, distinct=True))
        .filter(holders__gt=1, holders__lte=MAX_BLOCK)
        .values_list(value_field, flat=True)
    )
    values = list(groups.iterator(chunk_size=READ_CHUNK))
    for start in range(0, len(values), READ_CHUNK):
        by_value: dict[str, set[int]] = {}
        chunk = values[start : start + READ_CHUNK]
        for value, owner in rows.filter(**{f"{value_field}__in": chunk}).values_list(
            value_field, owner_field
        ):
            by_value.setdefault(value, set()).add(owner)
        for holders in by_value.values():
            ordered = sorted(holders)
            for i, a in enumerate(ordered):
                for b in ordered[i + 1 :]:
                    pairs.add(a, b, 100, reason)


def _blocks(spec: Spec, progress: Callable[[int], None]) -> dict[str, array]:
    """Every block key with the ids of its records (pass one: names streamed once)."""
    blocks: dict[str, array] = {}
    read = 0
    rows = spec.model._base_manager.order_by().values_list("pk", *spec.name_fields)
    for pk, *parts in rows.iterator(chunk_size=READ_CHUNK):
        for key in block_keys(name_key(spec, *parts)):
            blocks.setdefault(key, array("q")).append(pk)
        read += 1
        if read % READ_CHUNK == 0:
            progress(read)
    progress(read)
    return blocks


def _rows_by(model, key: str, fields: tuple[str, ...], ids: list[int]) -> Iterator[tuple]:
    """``(key, *fields)`` of ``model``'s rows whose ``key`` is one of ``ids``, 900 ids a
    statement. Plain SQL: Django builds and compiles an ``IN`` of 900 values anew for
    every read, several times the cost of the query itself (docs/benchmarks.md)."""
    quote, meta = connection.ops.quote_name, model._meta
    columns = ", ".join(quote(meta.get_field(name).column) for name in (key, *fields))
    head = f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {quote(meta.get_field(key).column)}"
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        with connection.cursor() as cursor:
            cursor.execute(f"{head} IN ({', '.join(['%s'] * len(chunk))})", chunk)
            rows = cursor.fetchall()
        yield from rows


def _names(spec: Spec, ids: Iterable[int]) -> dict[int, str]:
    rows = _rows_by(spec.model, "id", spec.name_fields, sorted(ids))
    return {pk: name_key(spec, *parts) for pk, *parts in rows}


def compare_block(ids: list[int], names: dict[int, str], threshold: int, alike: dict) -> int:
    """Note in ``alike`` the pairs of one block whose names score ``threshold`` or more,
    as (first, second) -> (score, same name); returns the number of comparisons made
    (bounded: all against all up to ``MAX_BLOCK`` records, then ``WINDOW`` per record)."""
    members = sorted((names[pk], pk) for pk in ids if names.get(pk))
    if len(members) < 2:
        return 0
    texts = [name for name, _pk in members]
    made = 0
    for i, (_name, pk) in enumerate(members):
        # All the later names of a small block, the next WINDOW of a large one.
        others = texts[i + 1 :] if len(members) <= MAX_BLOCK else texts[i + 1 : i + 1 + WINDOW]
        made += len(others)
        # Names are compared as their sorted tokens (``name_key``), so a plain ratio is
        # the token sort ratio: word order does not count.
        for other, score, j in process.extract(
            texts[i], others, scorer=fuzz.ratio, score_cutoff=threshold, limit=None
        ):
            other_pk = members[i + 1 + j][1]
            alike[(min(pk, other_pk), max(pk, other_pk))] = (int(score), other == texts[i])
    return made


PHONE_ENDING_DIGITS = 7
# Mail services anyone signs up with, and the domains reserved for examples (RFC 2606):
# two people sharing one of these share no employer.
PUBLIC_MAIL_DOMAINS = frozenset(
    """gmail.com googlemail.com yahoo.com yahoo.fr ymail.com hotmail.com hotmail.fr
    outlook.com outlook.fr live.com live.fr msn.com icloud.com me.com aol.com mail.com
    gmx.com gmx.de gmx.fr gmx.net web.de proton.me protonmail.com yandex.ru yandex.com
    ya.ru mail.ru bk.ru inbox.ru list.ru internet.ru rambler.ru orange.fr wanadoo.fr
    free.fr laposte.net sfr.fr example.com example.net example.org""".split()
)
# A shared email implies its domain, a shared phone its ending: listed once.
IMPLIED = {Reason.EMAIL_DOMAIN: Reason.EMAIL, Reason.PHONE_ENDING: Reason.PHONE}


def _plain(text: str) -> str:
    return " ".join(_NOT_ALNUM.sub(" ", anyascii(text).lower()).split())


def _host(website: str) -> str:
    try:
        host = urlsplit(website if "//" in website else f"//{website}").hostname or ""
    except ValueError:  # an imported value no URL field checked ("http://[")
        return ""
    return host.removeprefix("www.")


Facts = dict[int, dict[str, set[str]]]


def _note(facts: Facts, pk: int, reason: str, value) -> None:
    if value:
        facts.setdefault(pk, {}).setdefault(reason, set()).add(str(value))


def read_facts(spec: Spec, ids: Iterable[int]) -> Facts:
    """What ``ids`` are known by besides their names: reason -> values, per record."""
    ids = sorted(ids)
    facts: Facts = {}
    own = tuple(field for field, _reason in spec.fact_fields)
    for pk, *values in _rows_by(spec.model, "id", own, ids):
        for (field, reason), value in zip(spec.fact_fields, values, strict=True):
            _note(facts, pk, reason, _host(value) if field == "website" else value)
    owner = spec.owner_field
    for pk, email in _rows_by(Email, owner, ("normalized",), ids):
        _note(facts, pk, Reason.EMAIL, email)
        domain = email.rpartition("@")[2]
        if domain not in PUBLIC_MAIL_DOMAINS:
            _note(facts, pk, Reason.EMAIL_DOMAIN, domain)
    for pk, e164 in _rows_by(Phone, owner, ("e164",), ids):
        _note(facts, pk, Reason.PHONE, e164)
        if len(e164.lstrip("+")) > PHONE_ENDING_DIGITS:
            _note(facts, pk, Reason.PHONE_ENDING, e164[-PHONE_ENDING_DIGITS:])
    for pk, street, city in _rows_by(Address, owner, ("street", "city"), ids):
        street, city = _plain(street), _plain(city)
        if spec.place == Reason.CITY:
            _note(facts, pk, Reason.CITY, city)
        elif street and city:
            _note(facts, pk, Reason.ADDRESS, f"{street}, {city}")
    return facts


def name_pair_reasons(spec: Spec, first: dict, second: dict, same_name: bool) -> list[str]:
    """The reasons to offer two records whose names are alike, given their facts; none
    (namesakes) unless another fact is shared and no known fact differs."""
    for veto in spec.vetoes:
        if first.get(veto) and second.get(veto) and not first[veto] & second[veto]:
            return []
    shared = {reason for reason, values in first.items() if values & second.get(reason, set())}
    seconds = sorted(reason for reason in shared if IMPLIED.get(reason) not in shared)
    if not seconds and not (same_name and spec.same_name_suffices):
        return []
    return [Reason.SAME_NAME if same_name else Reason.NAME, *seconds]


def add_name_pairs(spec: Spec, alike: dict, pairs: Pairs) -> None:
    """Add the pairs of ``alike`` that another signal seconds, with their reasons."""
    facts = read_facts(spec, {pk for pair in alike for pk in pair})
    for (a, b), (score, same_name) in alike.items():
        reasons = name_pair_reasons(spec, facts.get(a, {}), facts.get(b, {}), same_name)
        if reasons:
            pairs.add(a, b, min(score, NAME_ONLY_MAX), *reasons)


def find(spec: Spec, pairs: Pairs, progress: Callable[[int, int], None] | None = None) -> None:
    """Every candidate pair of ``spec``'s type into ``pairs``. ``progress(done, total)``
    is told as it goes: records read in pass one, then blocks compared, each half."""
    report = progress or (lambda done, total: None)
    threshold = settings.KONTOR_DEDUP_NAME_SCORE
    points = {"person": {"person__isnull": False}, "company": {"company__isnull": False}}
    owned = points[spec.owner_field]
    _exact(pairs, Email.objects.filter(**owned), "normalized", spec.owner_field, Reason.EMAIL)
    _exact(pairs, Phone.objects.filter(**owned), "e164", spec.owner_field, Reason.PHONE)
    if spec.tax_id:
        _exact(pairs, spec.model._base_manager.all(), "tax_id", "pk", Reason.TAX_ID)
    count = spec.model._base_manager.count()
    blocks = _blocks(spec, lambda read: report(read, 2 * count))
    keys = sorted(key for key, ids in blocks.items() if len(ids) > 1)
    batch: list[str] = []
    batch_size = 0
    for done, key in enumerate(keys, start=1):
        batch.append(key)
        batch_size += len(blocks[key])
        if batch_size >= READ_CHUNK or done == len(keys):
            names = _names(spec, {pk for k in batch for pk in blocks[k]})
            alike: dict[tuple[int, int], tuple[int, bool]] = {}
            for k in batch:
                compare_block(list(blocks[k]), names, threshold, alike)
                del blocks[k]
            add_name_pairs(spec, alike, pairs)
            batch, batch_size = [], 0
            report(count + count * done // len(keys), 2 * count)
    pairs.flush()
    report(2 * count, 2 * count)


def scan(spec: Spec, progress: Callable[[int, int], None] | None = None) -> int:
    """Find the type's pairs, write them, and remove the open pairs this scan did not
    find again; answers the number of open pairs."""
    started = timezone.now()
    pairs = Pairs(spec.object_type, started)
    find(spec, pairs, progress)
    of_type = Candidate.objects.filter(object_type=spec.object_type, dismissed_at__isnull=True)
    of_type.filter(found_at__lt=started).delete()
    return of_type.count()
