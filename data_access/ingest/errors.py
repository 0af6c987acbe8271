"""The one error a load raises when a file as a whole cannot be loaded."""


class IngestError(ValueError):
    """The file, the mapping or the plant makes the whole load impossible; the message says
    why in words a data steward can act on. Nothing is written when it is raised."""
