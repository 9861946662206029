"""The one error the index raises to its callers."""

from qa.core.errors import QAError


class IndexUnavailable(QAError, RuntimeError):
    """An index that cannot be served: missing, corrupt, or built for something else."""
