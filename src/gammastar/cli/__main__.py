"""``python -m gammastar.cli``: the same as the ``gammastar`` command."""

from . import run

run()
