"""The task form: the engine's record form with a task's own fields."""

from django.utils import timezone

from kontor.web.forms import RecordForm

from . import services
from .models import Task


class TaskForm(RecordForm):
    scalar_fields = (*services.TASK_FIELDS, "owner_id", "department_id")
    status_choices = Task.Status.choices
    priority_choices = Task.Priority.choices

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        if self.is_new:
            self.data.setdefault("status", Task.Status.OPEN)
            self.data.setdefault("priority", Task.Priority.NORMAL)

    def read_record(self, obj) -> None:
        # A datetime-local input takes the moment in the reader's zone, to the minute.
        if obj.remind_at is not None:
            self.data["remind_at"] = timezone.localtime(obj.remind_at).strftime("%Y-%m-%dT%H:%M")
