"""The task form: the engine's record form with a task's own fields."""

from kontor.web.forms import RecordForm

from . import communication, services
from .models import Call, Direction, Task


class TaskForm(RecordForm):
    scalar_fields = (*services.TASK_FIELDS, "owner_id", "department_id")
    status_choices = Task.Status.choices
    priority_choices = Task.Priority.choices

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        if self.is_new:
            self.data.setdefault("status", Task.Status.OPEN)
            self.data.setdefault("priority", Task.Priority.NORMAL)


class NoteForm(RecordForm):
    scalar_fields = (*communication.NOTE_FIELDS, "owner_id", "department_id")


class CallForm(RecordForm):
    scalar_fields = (*communication.CALL_FIELDS, "owner_id", "department_id")
    direction_choices = Direction.choices
    outcome_choices = Call.Outcome.choices

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        if self.is_new:
            self.data.setdefault("direction", Direction.OUTBOUND)
            self.data.setdefault("outcome", Call.Outcome.ANSWERED)


class EmailForm(RecordForm):
    scalar_fields = (*communication.EMAIL_FIELDS, "owner_id", "department_id")
    direction_choices = Direction.choices
