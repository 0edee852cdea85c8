"""The one error of the formula language: a message for the user and where it applies."""

from django.utils.translation import pgettext_lazy


class FormulaError(Exception):
    """A formula refused when compiled or failing on a record's values.

    ``position`` is the 0-based offset in the source of the part at fault; ``line`` and
    ``column`` (1-based, for display) are set once the source is known.
    """

    def __init__(self, message: str, position: int):
        super().__init__(message, position)
        self.message = str(message)
        self.position = position
        self.line: int | None = None
        self.column: int | None = None

    def locate(self, source: str) -> "FormulaError":
        self.line = source.count("\n", 0, self.position) + 1
        self.column = self.position - (source.rfind("\n", 0, self.position) + 1) + 1
        return self

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"{self.message} ({self.line}:{self.column})"


# The result kinds of the language, as the user reads them in errors and the reference.
KIND_LABELS = {
    "number": pgettext_lazy("formula kind", "number"),
    "money": pgettext_lazy("formula kind", "money"),
    "text": pgettext_lazy("formula kind", "text"),
    "date": pgettext_lazy("formula kind", "date"),
    "boolean": pgettext_lazy("formula kind", "yes/no"),
    "null": pgettext_lazy("formula kind", "empty"),
}
