"""``python -m gammastar``: the same as the ``gammastar`` command."""

from .cli import run

run()
