"""What an import tells the person who ran it: counts, and one line per repaired or rejected
feature naming it and why; and the one exception an import raises."""

from __future__ import annotations

from dataclasses import dataclass, field


class ImportFailed(Exception):
    """The import was refused or aborted; nothing in the database was changed.

    The message names the problem, and the feature (its id or row) where one is to blame.
    """


@dataclass(frozen=True)
class Issue:
    """A feature that was repaired on the way in, or rejected (left out of the import)."""

    action: str  # "repaired" or "rejected"
    feature: str  # how the person finds it in their file: its id, key or row number
    reason: str

    def line(self) -> str:
        return f"{self.action} {self.feature}: {self.reason}"


@dataclass
class ImportReport:
    """The outcome of one import into one layer.

    `added + changed + unchanged` is the number of features the file brought in; `removed`
    counts what the database had and the file no longer has (closed, deleted or deactivated,
    depending on the layer); `rejected` features were left out, `repaired` ones were fixed and
    imported.
    """

    layer: str
    source: str
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    issues: list[Issue] = field(default_factory=list)
    read: int = 0  # features (rows, records) read from the file
    crs: str | None = None  # the file's CRS as understood, for spatial files
    run_id: int | None = None  # the row in import_runs
    seconds: float | None = None  # wall time of the import

    @property
    def rejected(self) -> int:
        return sum(1 for i in self.issues if i.action == "rejected")

    @property
    def repaired(self) -> int:
        return sum(1 for i in self.issues if i.action == "repaired")

    def repair(self, feature: str, reason: str) -> None:
        self.issues.append(Issue("repaired", feature, reason))

    def reject(self, feature: str, reason: str) -> None:
        self.issues.append(Issue("rejected", feature, reason))

    def add_counts(self, counts: dict[str, int]) -> None:
        for name in ("added", "changed", "unchanged", "removed"):
            setattr(self, name, getattr(self, name) + counts.get(name, 0))

    def summary(self) -> str:
        """One line, e.g. ``districts: 10 added, 0 changed, 0 unchanged, 0 removed
        (0 repaired, 0 rejected)``."""
        return (
            f"{self.layer}: {self.added} added, {self.changed} changed, "
            f"{self.unchanged} unchanged, {self.removed} removed "
            f"({self.repaired} repaired, {self.rejected} rejected)"
        )

    def messages(self) -> list[str]:
        """One line per repaired or rejected feature, naming it and saying why."""
        return [issue.line() for issue in self.issues]

    def as_json(self, max_messages: int = 1000) -> dict:
        """What import_runs.report keeps (messages capped so a bad file stays a small row)."""
        lines = self.messages()
        return {
            "summary": self.summary(),
            "read": self.read,
            "crs": self.crs,
            "messages": lines[:max_messages],
            "messages_left_off": max(0, len(lines) - max_messages),
        }
