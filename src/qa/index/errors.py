"""The one error the index raises to its callers."""


class IndexUnavailable(RuntimeError):
    """An index that cannot be served: missing, corrupt, or built for something else."""
