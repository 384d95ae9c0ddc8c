"""Published binned dilepton spectra (HEPData tables, plain CSV) as input to the rates.

Accepted tables of dN_ll/dm in mass bins:

* HEPData YAML (``.yaml``/``.yml``): first independent variable with ``low``/``high``
  bin edges (GeV), first dependent variable with ``value`` and ``errors``
  (``symerror`` or ``asymerror``, symmetrised as (|plus| + |minus|)/2);
  errors whose label contains "stat" are statistical, all others are added in
  quadrature as systematic (the first error counts as statistical when none
  is labelled);
* HEPData CSV export (``.csv`` with ``LOW``/``HIGH`` columns and ``stat``/``sys``
  error columns);
* plain CSV ``m_lo,m_hi,value,err`` (``err`` statistical).

``value`` is dN/dm in the table's own normalisation (per collision when so
published); ``n_collisions`` divides further if given.

How the numbers propagate: each bin's content W_k = value_k x width_k is used
with the same local estimator as events (:mod:`gammastar.spectrum.estimator`), whose
model integrals are exact over each bin, so the bin width only limits the
mass resolution.  Statistical errors are taken as independent between bins
(``n_err``); systematic errors as fully correlated (``n_err_sys``, the linear
sum).  mCP yields assume N_V constant within a bin: bin k contributes
W_k int_bin phi_chi / int_bin phi_l (:func:`gammastar.spectrum.mcp.table_sums`).
The result is a :class:`~gammastar.samples.PublishedSpectrum`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from ...errors import GammastarError, first_line
from ...physics.pdg import mass
from ...samples import PublishedSpectrum, check_lepton, check_n_collisions

__all__ = ["read_spectrum", "looks_like_table", "SPECTRUM_SUFFIXES", "YAML_SUFFIXES"]

SPECTRUM_SUFFIXES = (".yaml", ".yml", ".csv")
#: suffixes only tables have (a .csv may be either)
YAML_SUFFIXES = (".yaml", ".yml")

_Parsed = tuple[list[float], list[float], list[float], list[float], list[float]]


def _check_bins(path: Path, lo: list[float], hi: list[float], value: list[float], stat: list[float],
                sys: list[float]) -> None:
    arrays = [np.asarray(x, dtype=float) for x in (lo, hi, value, stat, sys)]
    if arrays[0].size == 0:
        raise GammastarError(f"{path}: the table has no bins")
    if not all(np.all(np.isfinite(x)) for x in arrays):
        raise GammastarError(f"{path}: the table has non-finite numbers")
    lo_a, hi_a, _, stat_a, sys_a = arrays
    if np.any(hi_a <= lo_a):
        raise GammastarError(f"{path}: bin {int(np.argmax(hi_a <= lo_a))} has high edge <= low edge")
    if np.any(np.diff(lo_a) <= 0) or np.any(lo_a[1:] < hi_a[:-1] - 1e-12):
        raise GammastarError(f"{path}: bin edges are not increasing (bins must be ordered and not overlap)")
    if np.any(stat_a < 0) or np.any(sys_a < 0):
        raise GammastarError(f"{path}: negative uncertainties in the table")


def _float(x: object, path: Path, what: str) -> float:
    try:
        return float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise GammastarError(f"{path}: {what} {x!r} is not a number") from None


def _hepdata_yaml(path: Path, text: str) -> _Parsed:
    import yaml

    try:
        doc = yaml.safe_load(text)
        indep = doc["independent_variables"][0]["values"]
        dep = doc["dependent_variables"][0]["values"]
    except yaml.YAMLError as exc:
        raise GammastarError(f"{path}: not valid YAML ({first_line(exc, 10_000)})") from None
    except (KeyError, IndexError, TypeError):
        raise GammastarError(f"{path}: not a HEPData table (need independent_variables and dependent_variables)") from None
    if len(indep) != len(dep):
        raise GammastarError(f"{path}: {len(indep)} mass bins but {len(dep)} values")
    lo, hi, value, stat, sys = [], [], [], [], []
    for i, (x, y) in enumerate(zip(indep, dep, strict=True)):
        if not isinstance(x, dict) or "low" not in x or "high" not in x:
            raise GammastarError(f"{path}: mass bin {i} has no low/high edges")
        if not isinstance(y, dict) or "value" not in y:
            raise GammastarError(f"{path}: bin {i} has no value")
        lo.append(_float(x["low"], path, "low edge"))
        hi.append(_float(x["high"], path, "high edge"))
        value.append(_float(y["value"], path, "value"))
        errs = y.get("errors", [])
        st: list[float] = []
        sy: list[float] = []
        if not isinstance(errs, list):
            raise GammastarError(f"{path}: bin {i} has errors that are not a list")
        for j, e in enumerate(errs):
            if not isinstance(e, dict):
                raise GammastarError(f"{path}: bin {i} has an error that is neither symerror nor asymerror")
            if "symerror" in e:
                size = _float(str(e["symerror"]).rstrip("%"), path, "error")  # negative: malformed, caught below
                if str(e["symerror"]).endswith("%"):
                    size *= abs(value[-1]) / 100.0
            elif "asymerror" in e:
                asym = e["asymerror"]
                if not isinstance(asym, dict):
                    raise GammastarError(f"{path}: bin {i} has an asymerror without plus and minus")
                size = 0.5 * (abs(_float(asym.get("plus"), path, "error")) + abs(_float(asym.get("minus"), path, "error")))
            else:
                raise GammastarError(f"{path}: bin {i} has an error that is neither symerror nor asymerror")
            label = str(e.get("label", "")).lower()
            is_stat = "stat" in label or (j == 0 and not any("label" in x for x in errs))
            (st if is_stat else sy).append(size)
        if not st:
            raise GammastarError(f"{path}: bin {i} has no statistical error")
        stat.append(float(np.hypot.reduce(st)) if len(st) > 1 else st[0])
        sys.append(float(np.sqrt(np.sum(np.square(sy)))))
    return lo, hi, value, stat, sys


def _csv_table(path: Path, text: str) -> _Parsed:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not lines:
        raise GammastarError(f"{path}: the table is empty")
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    if [h.lower() for h in header[:4]] == ["m_lo", "m_hi", "value", "err"]:
        cols = {"lo": 0, "hi": 1, "value": 2}
        stat_cols, sys_cols, signed = [3], [], False
    else:  # HEPData CSV export: "M [GeV],M [GeV] LOW,M [GeV] HIGH,<value>,stat +,stat -,sys +,sys -"
        up = [h.upper() for h in header]
        try:
            low, high = next(i for i, h in enumerate(up) if h.endswith("LOW")), next(i for i, h in enumerate(up) if h.endswith("HIGH"))
        except StopIteration:
            raise GammastarError(f"{path}: not a spectrum table: need columns m_lo,m_hi,value,err or a HEPData CSV "
                                 "export with LOW/HIGH bin edges") from None
        value_col = max(low, high) + 1
        if value_col >= len(header):
            raise GammastarError(f"{path}: no value column after the bin edges")
        cols = {"lo": low, "hi": high, "value": value_col}
        err_cols = list(range(value_col + 1, len(header)))
        stat_cols = [i for i in err_cols if "stat" in header[i].lower()] or err_cols[:2]
        sys_cols = [i for i in err_cols if i not in stat_cols]
        signed = True  # "+" and "-" columns: the minus ones are negative by convention
    lo, hi, value, stat, sys = [], [], [], [], []
    for r, row in enumerate(body):
        if len(row) < len(header):
            raise GammastarError(f"{path}: row {r + 1} has {len(row)} fields, the header {len(header)}")
        lo.append(_float(row[cols["lo"]], path, "low edge"))
        hi.append(_float(row[cols["hi"]], path, "high edge"))
        value.append(_float(row[cols["value"]], path, "value"))
        st = [_float(row[i], path, "error") for i in stat_cols]
        sy = [_float(row[i], path, "error") for i in sys_cols]
        if signed:
            st, sy = [abs(x) for x in st], [abs(x) for x in sy]
        # +/- pairs of one source are symmetrised, different sources added in quadrature
        stat.append(float(np.mean(st)) if len(st) <= 2 else float(np.sqrt(np.sum(np.square(st)) / 2)))
        sys.append(float(np.sqrt(np.sum(np.square(sy)) / max(len(sy) // 2, 1))) if sy else 0.0)
    return lo, hi, value, stat, sys


def read_spectrum(path: str | Path, *, lepton: str | None = None, n_collisions: float | None = None) -> PublishedSpectrum:
    """Read a published dN_ll/dm table (see the module docstring for the formats).

    The lepton flavour cannot be read off a table: bins below 2 m_mu mean
    electrons; otherwise ``lepton`` must be given.
    """
    path = Path(path)
    if not path.is_file():
        raise GammastarError(f"{path}: no such file")
    if path.suffix.lower() not in SPECTRUM_SUFFIXES:
        raise GammastarError(f"{path}: a spectrum table must be .yaml, .yml or .csv")
    if lepton is not None:
        check_lepton(lepton)
    text = path.read_text(errors="replace")
    parsed = _hepdata_yaml(path, text) if path.suffix.lower() in YAML_SUFFIXES else _csv_table(path, text)
    _check_bins(path, *parsed)
    lo, hi, value, stat, sys = (np.asarray(x, dtype=float) for x in parsed)
    if lepton is None:
        if lo[0] < 2.0 * mass("mu"):
            lepton = "e"
        else:
            raise GammastarError(f"{path}: a table does not say its lepton flavour; pass `lepton=e|mu`")
    if lo[0] < 2.0 * mass(lepton) * (1 - 1e-9):
        raise GammastarError(f"{path}: the first bin starts at {lo[0]:.4g} GeV, below 2 m_{lepton}")
    if n_collisions is not None:
        n_collisions = check_n_collisions(n_collisions)
    return PublishedSpectrum(lo, hi, value, stat, sys, check_lepton(lepton), n_collisions, str(path))


def looks_like_table(path: str | Path) -> bool:
    """True for files that are spectrum tables rather than events (YAML, or CSV with a table header)."""
    path = Path(path)
    if path.suffix.lower() in YAML_SUFFIXES:
        return True
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    with open(path, errors="replace") as f:
        head = next((line for line in f if line.strip() and not line.startswith("#")), "")
    cols = [c.strip().upper() for c in head.split(",")]
    return cols[:1] == ["M_LO"] or any(c.endswith("LOW") for c in cols)
