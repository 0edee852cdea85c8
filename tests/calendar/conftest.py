import datetime

import pytest
from django.utils import timezone

from kontor.calendar import services
from kontor.core.access import SYSTEM


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """A moment in the company's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def make_meeting(org):
    def make(title="Weekly review", *, owner=None, start=None, minutes=60, **data):
        owner = owner or org.member_a
        start = start or at(timezone.localdate() + datetime.timedelta(days=2), 9)
        values = {
            "title": title,
            "start": start,
            "end": start + datetime.timedelta(minutes=minutes),
            "owner_id": owner.pk,
            "department_id": owner.department_id,
        }
        return services.create_meeting(values | data, actor=SYSTEM)

    return make
