"""The meeting form: the engine's record form with a meeting's own fields."""

from kontor.web.forms import RecordForm

from . import services

# Sent by the form beside the participant lists, so that an emptied list means "none".
PARTICIPANTS_MARK = "participants_shown"


class MeetingForm(RecordForm):
    scalar_fields = (*services.MEETING_FIELDS, "owner_id", "department_id")

    def read_post(self, post) -> None:
        if PARTICIPANTS_MARK in post:
            self.data["attendee_ids"] = [v for v in post.getlist("attendee_ids") if v]
            self.data["people_ids"] = [v for v in post.getlist("people_ids") if v]

    def read_record(self, obj) -> None:
        self.data["all_day"] = "1" if obj.all_day else ""
        self.data["attendee_ids"] = [user.pk for user in obj.attendees.all()]
        self.data["people_ids"] = [person.pk for person in obj.people.all()]

    def chosen(self, key: str) -> set[str]:
        return {str(value) for value in self.data.get(key) or ()}
