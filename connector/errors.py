"""Errors featmesh raises on purpose, and the exit codes they map to.

Every message names what is wrong, in which file and where, and what was expected.
No message ever holds a secret: callers pass only names (of hosts, variables, files).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2
EXIT_PARTIAL = 3


class FeatmeshError(Exception):
    """Base class: the CLI prints ``str(err)`` and exits with ``exit_code``."""

    exit_code = EXIT_INPUT


class InputError(FeatmeshError):
    """Bad input: a file, an argument or a configuration featmesh cannot use.

    ``path`` is the file (or URI) and ``where`` the place inside it: a line number,
    a JSON-pointer-like path, or both.
    """

    def __init__(self, message: str, *, path: str | None = None, where: str | None = None):
        self.message = message
        self.path = path
        self.where = where
        super().__init__(self.__str__())

    def __str__(self) -> str:
        location = self.path or ""
        if self.where:
            location = f"{location}:{self.where}" if location else self.where
        return f"{location}: {self.message}" if location else self.message


class SourcesFailed(InputError):
    """Every source failed on bad input: the first error, with what each source said
    (for the ``--json`` summary a script still gets on stdout)."""

    def __init__(self, first: InputError, sources: list[dict[str, object]], run_id: str):
        super().__init__(first.message, path=first.path, where=first.where)
        self.sources = sources
        self.run_id = run_id

    def summary(self) -> dict[str, object]:
        return {"run_id": self.run_id, "status": "failed", "sources": self.sources, "error": str(self)}


class UsageError(InputError):
    """A command-line argument that does not make sense."""


class OutOfMemory(FeatmeshError):
    """The run needed more memory than the process may use (``MemoryError``): valid input
    too large to process in one run here, so the run is incomplete (exit 3). A catalog
    write under way is rolled back (the local catalog writes in one transaction)."""

    exit_code = EXIT_PARTIAL

    def __init__(self, command: str | None):
        run = f"'featmesh {command}'" if command else "featmesh"
        super().__init__(
            f"{run} ran out of memory and stopped (the local catalog keeps nothing of a write "
            "under way; a push to Atlas or Purview started is finished by 'featmesh scan --resume'). "
            "Read fewer sources or stores per run (a config for each group), "
            "or run it where the process may use more memory"
        )


class MissingExtraError(FeatmeshError):
    """An optional dependency is not installed: the input may be valid, featmesh
    cannot read it here, so the run is incomplete (exit 3)."""

    exit_code = EXIT_PARTIAL

    def __init__(self, feature: str, extra: str, module: str):
        super().__init__(f"{feature} needs the optional package '{module}': pip install 'featmesh[{extra}]'")


class SourceError(FeatmeshError):
    """A source could not be read for a reason that is not the input's fault
    (a network failure, a permission error). The run goes on without it."""

    exit_code = EXIT_PARTIAL


class UnsupportedStoreError(SourceError):
    """A valid store setup featmesh does not read (a Feast registry on PostgreSQL, in
    S3, behind a registry server): not the user's mistake, so the run is incomplete
    (exit 3), unlike malformed input (exit 2)."""


class CatalogError(FeatmeshError):
    """A catalog refused or failed a call. ``status`` is the HTTP status or None."""

    exit_code = EXIT_PARTIAL

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        self.status = status
        self.code = code
        super().__init__(message)
