"""The one exception type for problems a user can cause (bad file, wrong column, bad setting)."""

from __future__ import annotations


class MtlrecError(Exception):
    """A problem the user can fix. ``problems`` lists every problem found, each a full sentence.

    The app shows it with ``st.error``; the CLI prints it and exits with code 2.
    """

    def __init__(self, problems: str | list[str], *, source: str | None = None):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        super().__init__(self.message)

    @property
    def message(self) -> str:
        head = f"{self.source}: " if self.source else ""
        if len(self.problems) == 1:
            return head + self.problems[0]
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return f"{head}{len(self.problems)} problems found:\n{lines}"


class NoHeaderLine(MtlrecError):
    """A CSV file whose first line is data, not column names: `fields` is its number of fields. Read again with
    names (read_table's `names`: the CLI's --names, the Data page's "Name the columns")."""

    def __init__(self, problems: str | list[str], *, source: str | None = None, fields: int = 0):
        super().__init__(problems, source=source)
        self.fields = fields


class TrainingStopped(Exception):
    """Raised inside the trainer when the stop flag is set (internal; never reaches a user)."""
