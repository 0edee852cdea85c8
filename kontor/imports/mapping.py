"""Columns to fields: what a row of a spreadsheet can set on a record of any registered
type, which column goes where (suggested from the headers in English, Russian and
French), and a row's cells turned into the data the type's create service takes.

The targets are read from the type itself, never named per type: its create schema
(the API's: every key its services take), its model's fields (labels, kinds, choices),
its links to other registered types (a person's company, a deal's client: found by
the linked type's ``import_lookups``, a company also created by its name), the records
a timeline entry is about (a task's client), the fields the type takes by name
(``import_references``: a deal's stage) and the custom fields the user may edit.
"""

from __future__ import annotations

import datetime
import re
import types as pytypes
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _
from pydantic import BaseModel

from kontor.core import types
from kontor.core.customfields import registry as custom_registry
from kontor.core.customfields.kinds import Kind

from .reading import cell_text

LANGUAGES = ("en", "ru", "fr")


class Shape:
    SCALAR = "scalar"  # a value of the record: data[field] = value
    ITEM = "item"  # one list entry per column (a phone, an email): data[field] += [{part: value}]
    PART = "part"  # the columns together make one list entry (an address)
    TAGS = "tags"  # names separated by commas, semicolons or ":::" (Google's labels)
    CUSTOM = "custom"  # data["custom"][part] = value
    LINK = "link"  # a record of another type found by data's ``part``: data[field] = its id
    SUBJECT = "subject"  # a record an entry is about, found as a LINK: data[field] += [its ref]
    REFERENCE = "reference"  # a name the type resolves to an id (a stage): data[field] = id


class CellError(ValueError):
    """A cell's value cannot be read; the message says what was expected."""


@dataclass(frozen=True)
class Target:
    key: str  # stable, saved in mappings: "first_name", "phones:work", "company.name"
    label: str
    shape: str
    field: str  # the create data's key: "first_name", "phones", "custom", "company_id"
    part: str = ""  # list entry's key, custom field's API name, the link's lookup field
    kind: str = ""  # a list entry's kind ("work")
    convert: Callable = field(default=None, compare=False, repr=False)
    repeatable: bool = False  # several columns may go here
    linked_type: object = field(default=None, compare=False, repr=False)
    # A REFERENCE's resolver (``core.types.ImportReference.resolve``) and its turn: a
    # stage is resolved after the pipeline it is named in.
    resolve: Callable = field(default=None, compare=False, repr=False)
    rank: int = 0

    @property
    def link_group(self) -> str:
        """The targets naming one linked record together: "company" for "company.name"
        and "company.tax_id", "links.person" for a task's person."""
        return self.key.rpartition(".")[0]


# What users call each field in English, Russian and French, beyond its label. Keys are
# target keys, shared by every type that has them. Compared normalized (``normalize``:
# lower case, ё as е, digits and punctuation dropped, so "E-mail 2 Address" is
# "e mail address").
SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": ("first name", "given name", "firstname", "name first", "имя", "prénom",
                   "prenom"),
    "middle_name": ("middle name", "additional name", "second name", "отчество",
                    "deuxième prénom", "autres prénoms"),
    "last_name": ("last name", "family name", "surname", "lastname", "фамилия", "nom",
                  "nom de famille"),
    "position": ("job title", "title job", "organization title", "organisation title",
                 "должность", "позиция", "poste", "fonction", "titre"),
    "birthday": ("birthday", "birth date", "date of birth", "dob", "день рождения",
                 "дата рождения", "anniversaire", "date de naissance"),
    "notes": ("notes", "note", "comment", "comments", "remarks", "примечание", "примечания",
              "комментарий", "заметки", "commentaire", "commentaires", "remarques"),
    "source": ("source", "lead source", "источник", "origine"),
    "name": ("name", "company", "company name", "organization", "organisation", "название",
             "наименование", "компания", "организация", "nom", "société", "entreprise",
             "raison sociale"),
    "legal_name": ("legal name", "full legal name", "юридическое название",
                   "полное наименование", "dénomination sociale"),
    "tax_id": ("tax id", "vat", "vat number", "tin", "инн", "siren", "siret",
               "numéro de tva", "n tva"),
    "industry": ("industry", "sector", "отрасль", "сфера", "secteur", "secteur d activité"),
    "website": ("website", "web site", "web page", "url", "site", "сайт", "веб сайт",
                "site web", "site internet"),
    "title": ("title", "subject", "name", "название", "заголовок", "тема", "titre", "sujet"),
    "description": ("description", "details", "описание", "détails"),
    "status": ("status", "state", "статус", "состояние", "statut", "état"),
    "priority": ("priority", "приоритет", "важность", "priorité"),
    "due_date": ("due date", "due", "deadline", "срок", "дата выполнения", "échéance"),
    "amount": ("amount", "value", "sum", "сумма", "бюджет", "montant", "valeur"),
    "currency": ("currency", "валюта", "devise"),
    "expected_close": ("expected close", "close date", "expected close date",
                       "дата закрытия", "date de clôture"),
    "sku": ("sku", "article", "item code", "product code", "артикул", "код товара",
            "référence", "ref"),
    "price": ("price", "unit price", "цена", "стоимость", "prix", "prix unitaire"),
    "unit": ("unit", "uom", "единица", "ед изм", "единица измерения", "unité"),
    "tags": ("tags", "labels", "categories", "category", "groups", "group membership",
             "теги", "метки", "категории", "группы", "étiquettes", "catégories"),
    "emails": ("email", "e mail", "e mail address", "e mail value", "email address", "mail",
               "почта", "эл почта", "электронная почта", "емейл", "courriel", "adresse e mail",
               "e mail adresse"),
    "phones": ("phone", "phone value", "phone number", "telephone", "tel", "телефон",
               "тел", "номер телефона", "téléphone", "numéro de téléphone"),
    "phones:mobile": ("mobile phone", "mobile", "cell phone", "cell", "мобильный",
                      "мобильный телефон", "сотовый", "portable", "téléphone portable",
                      "mobile téléphone"),
    "phones:work": ("business phone", "work phone", "office phone", "рабочий телефон",
                    "téléphone professionnel", "téléphone bureau"),
    "phones:home": ("home phone", "домашний телефон", "téléphone domicile",
                    "téléphone fixe"),
    "phones:fax": ("fax", "business fax", "факс", "télécopie"),
    "emails:personal": ("personal email", "home email", "личная почта", "e mail personnel"),
    "addresses.street": ("street", "address", "address street", "business street",
                         "street address", "улица", "адрес", "rue", "adresse"),
    "addresses.city": ("city", "town", "address city", "business city", "город", "ville"),
    "addresses.region": ("region", "state", "province", "address region", "business state",
                         "регион", "область", "край", "région", "département"),
    "addresses.postal_code": ("postal code", "zip", "zip code", "postcode",
                              "address postal code", "business postal code", "индекс",
                              "почтовый индекс", "code postal"),
    "addresses.country": ("country", "country region", "address country",
                          "business country region", "страна", "pays"),
    "company.name": ("company", "company name", "organization", "organization name",
                     "organisation name", "employer", "компания", "организация",
                     "название компании", "работодатель", "société", "entreprise",
                     "nom de l entreprise"),
    "company.tax_id": ("company tax id", "company vat", "инн", "инн компании",
                       "siren", "siret", "numéro de tva"),
    "person.name": ("contact", "contact person", "contact name", "client", "customer",
                    "контакт", "контактное лицо", "клиент", "personne de contact",
                    "nom du contact"),
    "person.email": ("email", "e mail", "contact email", "client email", "customer email",
                     "почта", "почта клиента", "email клиента", "courriel",
                     "e mail du contact"),
    "pipeline": ("pipeline", "funnel", "sales pipeline", "воронка", "воронка продаж",
                 "tunnel de vente", "entonnoir"),
    "stage": ("stage", "deal stage", "этап", "стадия", "этап сделки", "étape"),
}  # fmt: skip


def normalize(header: str) -> str:
    """A header as compared with synonyms and labels."""
    text = header.casefold().replace("ё", "е").replace("’", " ").replace("'", " ")
    return " ".join(re.sub(r"[\W\d_]+", " ", text).split())


# -- converting cells ------------------------------------------------------------------------

_NUMERIC_DATE = re.compile(r"^(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})(?:[ T].*)?$")


def parse_date(value, *, day_first: bool = True) -> datetime.date:
    """A date as spreadsheets hold it: a workbook's date, ISO (2024-05-17), dotted day
    first (17.05.2024), or with slashes, day first unless ``day_first`` is false (US:
    5/17/2024); a part above 12 tells the order itself."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = cell_text(value)
    match = _NUMERIC_DATE.match(text)
    if match:
        a, b, c = (int(part) for part in match.groups())
        if len(match.group(1)) == 4:
            year, month, day = a, b, c
        else:
            year = c + (2000 if c < 50 else 1900) if len(match.group(3)) == 2 else c
            separator = text[len(match.group(1))]
            first_is_day = separator == "." or a > 12 or (day_first and b <= 12)
            day, month = (a, b) if first_is_day else (b, a)
        try:
            return datetime.date(year, month, day)
        except ValueError:
            pass
    raise CellError(
        _("Unknown date format: %(value)s (use 2024-05-17 or 17.05.2024).") % {"value": text}
    )


def _text(value, **options) -> str:
    return cell_text(value)


def _date(value, *, day_first=True, **options) -> datetime.date:
    return parse_date(value, day_first=day_first)


def _whole(value, **options) -> int:
    text = cell_text(value).replace(" ", "").replace("\u00a0", "")
    if not re.fullmatch(r"-?\d+", text):
        raise CellError(_("Not a whole number: %(value)s.") % {"value": text})
    return int(text)


def _decimal(value, **options) -> str:
    """A number as the services take it (text): a decimal comma and spaces between
    thousands accepted (1 234,50)."""
    text = cell_text(value).replace(" ", "").replace("\u00a0", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    else:
        text = text.replace(",", "")
    try:
        Decimal(text)
    except InvalidOperation:
        raise CellError(_("Not a number: %(value)s.") % {"value": cell_text(value)}) from None
    return text


_YES = {"1", "yes", "y", "true", "x", "да", "д", "oui", "vrai", "+"}
_NO = {"0", "no", "n", "false", "нет", "н", "non", "faux", "-"}


def _boolean(value, **options) -> bool:
    if isinstance(value, bool):
        return value
    text = cell_text(value).casefold()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise CellError(_("Not yes or no: %(value)s.") % {"value": cell_text(value)})


def _labels_in_languages(label) -> list[str]:
    found = []
    for language in LANGUAGES:
        with translation.override(language):
            found.append(str(label))
    return found


def _choice(pairs: list[tuple[str, object]]) -> Callable:
    """A value of ``pairs`` ((value, label)): the value itself or its label in any of the
    languages, whatever the case."""
    known: dict[str, str] = {}
    for value, label in pairs:
        known[normalize(str(value))] = value
        for text in _labels_in_languages(label):
            known.setdefault(normalize(text), value)

    def convert(cell, **options):
        text = cell_text(cell)
        found = known.get(normalize(text))
        if found is None:
            raise CellError(_("Unknown choice: %(value)s.") % {"value": text})
        return found

    return convert


def _tags(value, **options) -> list[str]:
    return [name.strip() for name in re.split(r":::|[,;\n]", cell_text(value)) if name.strip()]


def _model_converter(model_field) -> Callable:
    if model_field.choices:
        return _choice(list(model_field.flatchoices))
    if isinstance(model_field, models.DateTimeField):
        return _text
    if isinstance(model_field, models.DateField):
        return _date
    if isinstance(model_field, models.BooleanField):
        return _boolean
    if isinstance(model_field, models.DecimalField):
        return _decimal
    if isinstance(model_field, models.IntegerField):
        return _whole
    return _text


def _custom_converter(custom) -> Callable:
    if custom.kind in (Kind.CHOICE, Kind.MULTIPLE_CHOICE):
        one = _choice([(c["key"], c["label"]) for c in custom.choices])
        if custom.kind == Kind.CHOICE:
            return one
        return lambda value, **options: [one(name) for name in _tags(value)]
    if custom.kind == Kind.DATE:
        return lambda value, **options: _date(value, **options).isoformat()
    if custom.kind == Kind.BOOLEAN:
        return _boolean
    if custom.kind in (Kind.DECIMAL, Kind.MONEY, Kind.PERCENT):
        return _decimal
    if custom.kind == Kind.INTEGER:
        return _whole
    return _text


# -- the targets of a type -------------------------------------------------------------------

# Keys every type's services take that a spreadsheet does not set by id.
_NOT_FROM_FILES = {"owner_id", "department_id", "custom", "version"}


def _strip_optional(annotation):
    """``X | None`` and ``Annotated[X, ...]`` as X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, pytypes.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _model_field(model, name):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _label(model_field, fallback: str):
    if model_field is not None and getattr(model_field, "verbose_name", None):
        return str(model_field.verbose_name)[:1].upper() + str(model_field.verbose_name)[1:]
    return fallback.replace("_", " ").capitalize()


def _list_targets(name: str, item, model) -> list[Target]:
    """A list of entries: an entry per column (one required text and a kind, such as a
    phone), or one entry from several columns (all parts optional text, an address)."""
    relation = _model_field(model, name)
    if relation is None or not relation.is_relation:
        return []
    related = relation.related_model
    parts = {n: f for n, f in item.model_fields.items() if n != "kind"}
    required = [n for n, f in parts.items() if f.is_required()]
    label = str(related._meta.verbose_name).capitalize()
    if len(required) == 1 and len(parts) == 1:
        part = required[0]
        part_field = _model_field(related, part)
        convert = _model_converter(part_field) if part_field is not None else _text
        found = [Target(name, label, Shape.ITEM, name, part, convert=convert, repeatable=True)]
        kind_field = _model_field(related, "kind")
        if kind_field is not None and kind_field.choices:
            for kind, kind_label in kind_field.flatchoices:
                found.append(
                    Target(
                        f"{name}:{kind}",
                        f"{label} ({kind_label})",
                        Shape.ITEM,
                        name,
                        part,
                        kind=kind,
                        convert=convert,
                        repeatable=True,
                    )
                )
        return found
    if not required and all(_strip_optional(f.annotation) is str for f in parts.values()):
        return [
            Target(
                f"{name}.{part}",
                f"{label}: {_label(_model_field(related, part), part).lower()}",
                Shape.PART,
                name,
                part,
                convert=_model_converter(related._meta.get_field(part)),
            )
            for part in parts
        ]
    return []


def targets(record_type, user) -> list[Target]:
    """Everything a column may set on a ``record_type`` record, for ``user``."""
    model = record_type.model
    schema_fields = record_type.create_schema.model_fields
    links = {f"{name}_id": linked for name, linked in record_type.links()}
    found: list[Target] = []
    for name, info in schema_fields.items():
        if name in _NOT_FROM_FILES:
            continue
        annotation = _strip_optional(info.annotation)
        model_field = _model_field(model, name)
        if name in links:
            found += _link_targets(name, links[name], model)
        elif name == TIMELINE_LINKS and record_type.timeline:
            found += _subject_targets()
        elif typing.get_origin(annotation) is list:
            (item,) = typing.get_args(annotation)
            if item is str:
                label = _label(model_field, name)
                found.append(Target(name, label, Shape.TAGS, name, convert=_tags))
            elif isinstance(item, type) and issubclass(item, BaseModel):
                found += _list_targets(name, item, model)
        elif (model_field is None and name.endswith("_id")) or (
            model_field is not None and model_field.is_relation
        ):
            continue  # an id the file would have to know
        else:
            convert = _model_converter(model_field) if model_field is not None else _text
            found.append(
                Target(name, _label(model_field, name), Shape.SCALAR, name, convert=convert)
            )
    for rank, reference in enumerate(record_type.import_references(user)):
        found.append(
            Target(
                reference.key,
                str(reference.label),
                Shape.REFERENCE,
                reference.field,
                convert=_text,
                resolve=reference.resolve,
                rank=rank,
            )
        )
    for custom in custom_registry.editable_fields(user, record_type.object_type):
        if custom.kind in (Kind.USER, Kind.RELATION):
            continue
        found.append(
            Target(
                f"custom.{custom.name}",
                custom.label,
                Shape.CUSTOM,
                "custom",
                custom.name,
                convert=_custom_converter(custom),
            )
        )
    return found


def _link_targets(id_name: str, linked, model) -> list[Target]:
    """A record of a linked type found (or created) from the row by the linked type's
    lookups (a company by its tax id or name)."""
    name = id_name[: -len("_id")]
    linked_label = _label(_model_field(model, name), name)
    return [
        Target(
            f"{name}.{lookup.key}",
            f"{linked_label}: {lookup.label}",
            Shape.LINK,
            id_name,
            lookup.key,
            convert=_text,
            linked_type=linked,
        )
        for lookup in linked.import_lookups
    ]


# The create data's key of a timeline entry's records (``core.timeline.read_links``).
TIMELINE_LINKS = "links"


def _subject_targets() -> list[Target]:
    """The records a timeline entry (a task) is about, one per type an import can find
    (``import_lookups``): its client person or company."""
    return [
        Target(
            f"{TIMELINE_LINKS}.{subject.name}.{lookup.key}",
            _("About: %(type)s, %(lookup)s") % {"type": subject.singular, "lookup": lookup.label},
            Shape.SUBJECT,
            TIMELINE_LINKS,
            lookup.key,
            convert=_text,
            linked_type=subject,
        )
        for subject in types.record_types()
        for lookup in subject.import_lookups
    ]


# -- suggestions -----------------------------------------------------------------------------


def _names_of(target: Target) -> list[str]:
    names = [*SYNONYMS.get(target.key, ()), *_labels_in_languages(target.label), target.key]
    if target.shape == Shape.CUSTOM:
        names.append(target.part)
    if target.shape == Shape.SUBJECT:  # a task's "Company" as a contact's "Company"
        names += SYNONYMS.get(f"{target.linked_type.name}.{target.part}", ())
    return names


def suggest(headers: list[str], available: list[Target]) -> dict[int, str]:
    """Column index -> target key, for the headers that name a target: each target once
    (but a list entry per column), in the order of the targets (a person's own "name"
    columns before its company's)."""
    by_name: dict[str, Target] = {}
    for target in available:
        for name in _names_of(target):
            by_name.setdefault(normalize(name), target)
    suggested: dict[int, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        target = by_name.get(normalize(header))
        if target is None or (target.key in taken and not target.repeatable):
            continue
        suggested[index] = target.key
        taken.add(target.key)
    return suggested


def apply_saved(saved: dict[str, str], headers: list[str], available: list[Target]):
    """A saved mapping (a template: header -> target key, "" for a column left out)
    applied to a file's headers, as column index -> target key: a header as saved, else
    whatever its case and spacing (``normalize``); a header the template does not know
    keeps its suggestion. A target takes one column (unless repeatable), the template's
    first; a key no longer offered (a custom field deleted) is left out."""
    known = {t.key: t for t in available}
    exact = {h: k for h, k in saved.items() if not k or k in known}
    loose: dict[str, str] = {}
    for header, key in exact.items():
        loose.setdefault(normalize(header), key)
    chosen: dict[int, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        if header in exact:
            key = exact[header]
        elif normalize(header) in loose:
            key = loose[normalize(header)]
        else:
            continue
        if key and (key not in taken or known[key].repeatable):
            chosen[index] = key
            taken.add(key)
    unknown = [i for i, h in enumerate(headers) if h not in exact and normalize(h) not in loose]
    for position, key in suggest([headers[i] for i in unknown], available).items():
        if key not in taken or known[key].repeatable:
            chosen[unknown[position]] = key
    return dict(sorted(chosen.items()))


# -- a row -----------------------------------------------------------------------------------


@dataclass
class Mapping:
    """Which column sets which target; ``convert`` reads a row with it."""

    columns: dict[int, Target]
    day_first: bool = True

    @classmethod
    def of(cls, keys: dict[int, str], available: list[Target], **options) -> Mapping:
        """From column index -> target key (a saved mapping, the wizard's form); an
        unknown key (a custom field since deleted) raises ``CellError``."""
        by_key = {t.key: t for t in available}
        unknown = [key for key in keys.values() if key and key not in by_key]
        if unknown:
            raise CellError(_("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)})
        taken = [key for key in keys.values() if key and not by_key[key].repeatable]
        if len(taken) != len(set(taken)):
            raise CellError(_("Each field may take one column only."))
        return cls({int(i): by_key[key] for i, key in keys.items() if key}, **options)

    @classmethod
    def by_headers(cls, saved: dict[str, str], headers: list[str], available, **options):
        """From a saved mapping (header -> target key, a template for the next file of
        the same shape): a header the file lacks is left out, one it repeats maps each
        time."""
        keys = {i: saved[h] for i, h in enumerate(headers) if saved.get(h)}
        return cls.of(keys, available, **options)

    def saved(self, headers: list[str]) -> dict[str, str]:
        """The mapping to save as a template: header -> target key."""
        return {headers[i]: t.key for i, t in sorted(self.columns.items()) if i < len(headers)}

    def columns_of(self, field_name: str) -> list[int]:
        """The columns that feed a data key (``emails`` from the error "emails.1.address")."""
        head = field_name.split(".")[0]
        return [i for i, t in self.columns.items() if t.field == head or t.key == field_name]

    def convert(self, cells: list) -> tuple[dict, dict[str, dict], dict[int, str]]:
        """A row as (data for the create service, link lookups by ``link_group``, cell
        errors by column). Names of references are resolved last, in their turn, with
        the row's data at hand."""
        data: dict = {}
        links: dict[str, dict] = {}
        errors: dict[int, str] = {}
        references: list[tuple[int, Target, str]] = []
        for index, target in self.columns.items():
            raw = cells[index] if index < len(cells) else None
            if not cell_text(raw):
                continue
            try:
                value = target.convert(raw, day_first=self.day_first)
            except CellError as exc:
                errors[index] = str(exc)
                continue
            shape = target.shape
            if shape in (Shape.SCALAR, Shape.TAGS):
                data[target.field] = value
            elif shape == Shape.ITEM:
                entry = {target.part: value}
                if target.kind:
                    entry["kind"] = target.kind
                data.setdefault(target.field, []).append(entry)
            elif shape == Shape.PART:
                data.setdefault(target.field, [{}])[0][target.part] = value
            elif shape == Shape.CUSTOM:
                data.setdefault("custom", {})[target.part] = value
            elif shape == Shape.REFERENCE:
                references.append((index, target, value))
            else:
                links.setdefault(target.link_group, {})[target.part] = value
        for index, target, value in sorted(references, key=lambda r: r[1].rank):
            try:
                data[target.field] = target.resolve(value, data)
            except ValueError as exc:
                errors[index] = str(exc)
        return data, links, errors
