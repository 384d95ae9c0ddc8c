"""Library messages as the command line says them: each `parameter` named in backticks becomes its flag.

The library's errors, warnings and notes name parameters as Python callers
know them, in backticks (```n_events` must be at least 100``, ```lepton=e|mu```);
the command line shows the flag that sets each (``--n-events``, ``--lepton
e|mu``): the name in kebab case, or the spelling of :data:`FLAGS`.
"""

from __future__ import annotations

import re

__all__ = ["FLAGS", "as_flags"]

#: library spellings (a parameter, or parameter=VALUE) whose flag is not the name in kebab case
FLAGS = {
    "fmt": "--format",
    "spectrum=True": "--spectrum",
    "beam": "--beam-energy or --collider",
    "beam=Beam.fixed_target(E)": "--beam-energy E",
    "beam=Beam.collider(SQRT_S)": "--collider SQRT_S",
    "m_aprime": "--mass",
    "m_chi": "--mchi",
}

_QUOTED = re.compile(r"`([a-z][a-z_]*)(?:=([^`\s]+))?`")


def as_flags(message: str) -> str:
    """``message`` with each backticked parameter (``name`` or ``name=VALUE``) as the flag that sets it."""

    def flag(m: re.Match[str]) -> str:
        whole = m.group(0)[1:-1]
        if whole in FLAGS:
            return FLAGS[whole]
        name, value = m.group(1), m.group(2)
        spelled = FLAGS.get(name, "--" + name.replace("_", "-"))
        return spelled if value is None else f"{spelled} {value}"

    return _QUOTED.sub(flag, message)
