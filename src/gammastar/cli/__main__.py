"""``python -m gammastar.cli``: the same as the ``gammastar`` command."""

import sys

from . import main

sys.exit(main())
