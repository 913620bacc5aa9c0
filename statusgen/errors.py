"""Errors a user can act on. The CLI shows their text as is; no traceback reaches a user."""

from __future__ import annotations

from dataclasses import dataclass

import click


class StatusgenError(click.ClickException):
    """Base of every error statusgen reports to a user."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config file, located as editors expect: file:line:col."""

    file: str
    line: int | None
    column: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ConfigError(StatusgenError):
    """The configuration is wrong; every problem found is listed at once."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{count} in configuration:\n" + "\n".join(f"  {p}" for p in problems))


class HistoryError(StatusgenError):
    """History cannot be read or written; nothing was changed."""


class CollectorError(Exception):
    """Raised by a collector for one source or connection; becomes an `unknown` status.

    The message must be short, safe to publish, and free of credentials.
    """


class NotFoundError(CollectorError):
    """The API has nothing at that address (HTTP 404): a collector may say what is missing."""
