"""``python -m gammastar``: the same as the ``gammastar`` command."""

import sys

from .cli import main

sys.exit(main())
