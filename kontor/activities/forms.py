"""The task form: the engine's record form with a task's own fields."""

from kontor.web.forms import RecordForm

from .models import Task


class TaskForm(RecordForm):
    scalar_fields = (
        "title",
        "description",
        "status",
        "priority",
        "due_date",
        "due_time",
        "owner_id",
        "department_id",
    )
    status_choices = Task.Status.choices
    priority_choices = Task.Priority.choices

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        if self.is_new:
            self.data.setdefault("status", Task.Status.OPEN)
            self.data.setdefault("priority", Task.Priority.NORMAL)
