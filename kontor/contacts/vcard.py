"""People as vCard 4.0 (RFC 6350), written with vobject, for address books and phones."""

from __future__ import annotations

import vobject


def person_vcard(person, points: dict) -> str:
    """One person's card: name, organisation (a company the reader sees), position,
    phones as tel: URIs, emails, birthday, tags as categories; ``points`` as
    ``contacts.types.contact_points`` reads them for a chunk of people."""
    card = vobject.vCard()
    card.add("version").value = "4.0"
    card.add("uid").value = f"urn:kontor:contacts.person:{person.pk}"
    card.add("fn").value = person.full_name or str(person)
    card.add("n").value = vobject.vcard.Name(
        family=person.last_name, given=person.first_name, additional=person.middle_name
    )
    company = person.visible_company
    if company is not None:
        card.add("org").value = [company.name]
    if person.position:
        card.add("title").value = person.position
    for _raw, e164, extension in points["phones"]:
        if e164:
            tel = card.add("tel")
            tel.value = f"tel:{e164}" + (f";ext={extension}" if extension else "")
            tel.params["VALUE"] = ["uri"]
    for address in points["emails"]:
        card.add("email").value = address
    if person.birthday:
        card.add("bday").value = person.birthday.strftime("%Y%m%d")
    if points["tags"]:
        card.add("categories").value = list(points["tags"])
    card.add("rev").value = person.updated_at.strftime("%Y%m%dT%H%M%SZ")
    return card.serialize()
