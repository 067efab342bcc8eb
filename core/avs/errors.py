"""The one user-facing error type.

Anything a user can cause (a missing file, a bad option, a checkpoint of another
method) is raised as :class:`AvsError` with a message that fits on one line; the CLI
prints that line and exits with status 2, without a traceback.
"""


class AvsError(Exception):
    """A problem with the user's input, explained in one readable line."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))
