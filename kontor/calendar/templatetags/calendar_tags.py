"""What the meeting form offers as participants: active users and contacts the reader
sees (the chosen ones always, then the first others by name, bounded)."""

from django import template
from django.contrib.auth import get_user_model
from django.db.models import Q

from kontor.contacts.models import Person

register = template.Library()

CHOICES_LIMIT = 300


def _ids(form, key: str) -> set[int]:
    return {int(v) for v in form.chosen(key) if str(v).isdigit()}


@register.simple_tag
def participant_choices(user, form) -> dict:
    chosen_users, chosen_people = _ids(form, "attendee_ids"), _ids(form, "people_ids")
    users = get_user_model().objects.filter(Q(is_active=True) | Q(pk__in=chosen_users))
    people = Person.objects.visible_to(user).order_by("last_name", "first_name", "id")
    offered = list(people.filter(pk__in=chosen_people))
    offered += [p for p in people[:CHOICES_LIMIT] if p.pk not in chosen_people]
    return {
        "users": list(users.order_by("first_name", "last_name", "email")[:CHOICES_LIMIT]),
        "people": offered,
    }


@register.filter
def chosen_ids(form, key: str) -> set[str]:
    return form.chosen(key)
