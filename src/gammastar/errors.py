"""The one exception type gammastar raises for bad input or impossible requests."""


class GammastarError(ValueError):
    """A user-facing error: the message is one line and says what to fix.

    The command-line interface prints it as ``error: <message>`` and exits
    with status 2; it is never shown as a traceback.
    """
