"""Errors searchidx reports to its users: each carries a one-line message that the
CLI prints as it is (exit code 2 for the user's input, 1 for the index's state)."""


class SearchidxError(Exception):
    """Base of every error meant for the user rather than for a traceback."""

    exit_code = 1


class IndexNotFound(SearchidxError):
    pass


class IndexLocked(SearchidxError):
    pass


class IncompatibleIndex(SearchidxError):
    pass


class QueryError(SearchidxError):
    """A query that cannot be parsed or run (bad syntax, unknown field, bad date)."""

    exit_code = 2


class InvalidArgument(SearchidxError):
    """A library call given an argument of the wrong type or out of range
    (``categories=5``, ``date_from="yesterday"``, ``workers=0``)."""

    exit_code = 2


def kind(value: object) -> str:
    """A value's type, for a message: "int", "str"."""
    return type(value).__name__


class UnknownArticle(SearchidxError):
    exit_code = 2


class OutputPathError(SearchidxError):
    """An output file that cannot be written, or would overwrite an input."""

    exit_code = 2


class CorruptIndex(SearchidxError):
    """An index whose files are damaged, or hold what searchidx never writes."""


class BuildRefused(SearchidxError):
    """A rebuild (or first build) that would publish an empty or mostly rejected index:
    more likely a wrong path or format than the intended corpus, so the old one stays."""

    exit_code = 2


class IndexWriteFailed(SearchidxError):
    """The index could not be written (disk full, read-only, a worker killed); it is
    left as it was before the write."""


class MissingExtra(SearchidxError):
    """A feature that needs an optional dependency which is not installed; the
    message says which ``pip install`` brings it."""

    exit_code = 2


class ClusterUnavailable(SearchidxError):
    """The Dask scheduler asked for cannot be reached, or has no workers."""


class IncompatibleWorker(SearchidxError):
    """A Dask worker runs another version of searchidx than the client: the segments
    it wrote could not be mixed with the client's."""
