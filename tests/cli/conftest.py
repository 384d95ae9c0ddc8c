"""The CLI run in-process, as a user would run it: exit status, stdout, stderr."""

import pytest

from gammastar.cli import main


@pytest.fixture
def run(capsys):
    def _run(*args):
        rc = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return rc, out, err

    return _run
