r"""The plain-text tables ``nnqm run`` and ``nnqm diagnose`` print.

Two kinds of table, because two different uncertainties are at stake:

- a **Monte Carlo** table (tasks ``sample``, ``nnqm``, ``correlators``): each entry estimates an
  expectation, printed as ``value ± MCSE`` (the Monte Carlo standard error of that estimate)
  beside the exact value on the same lattice and the continuum. Where an entry states a
  ``systematic`` it has its own column: the value meets its exact value within a few
  :math:`\sqrt{\mathrm{MCSE}^2 + \mathrm{systematic}^2}`. A verdict has its own column too, with
  its significance ``z`` and, where ``z`` is not the printed value over the printed MCSE, what it
  is: the σ it is in units of (Δx·Δp: :math:`\sqrt{\mathrm{MCSE}^2 + \mathrm{systematic}^2}`), the
  reference it is measured from (clustering: the tolerance) or the statistic it judges (reflection
  positivity: the held-out Rayleigh quotient, not the printed eigenvalue ratio).
- a **posterior** table (task ``fit``): each parameter's posterior mean ± posterior sd (how well
  the data determine it), its 90 % equal-tailed interval, the MCSE of the posterior mean in a
  column of its own (how well the sampler determined the mean), and where an exact value exists
  that value and its distance :math:`(\bar\theta - \theta_\mathrm{exact})/\mathrm{sd}` in posterior
  standard deviations. The MCSE is not an error bar of the parameter: a mean 20 MCSE from the
  truth may sit well within one posterior sd of it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["FIT_COLUMNS", "MC_VALUE_COLUMN", "format_table", "format_fit_table", "is_posterior_entry"]

#: headers of the posterior table, in order
FIT_COLUMNS = ("parameter", "posterior mean ± sd", "90% interval", "MCSE of mean", "exact", "(mean-exact)/sd")
#: header of a Monte Carlo table's value column
MC_VALUE_COLUMN = "value ± MCSE"

_FIT_LEGEND = ("sd: posterior standard deviation (the parameter's uncertainty given the data); 90% interval: "
               "equal-tailed; MCSE: Monte Carlo standard error of the posterior mean (sampler precision, "
               "not the parameter's uncertainty)")
_SYST_LEGEND = "systematic: the entry's stated systematic; exact is met within a few √(MCSE² + systematic²)"
_VERDICT_LEGEND = ("z: the verdict's significance, the value over its MCSE unless the verdict column says "
                   "otherwise (another σ, a reference, or a held-out statistic)")


def _fmt(x: Any, spec: str = ".6g") -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "—"
    return format(x, spec) if isinstance(x, float | int) else str(x)


def _render(rows: list[tuple[str, ...]], legend: list[str]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines + legend)


def _drop_empty(rows: list[tuple[str, ...]], columns: tuple[int, ...]) -> list[tuple[str, ...]]:
    """Remove the given columns where no row below the header has anything but "—" or "" in them."""
    empty = {i for i in columns if all(r[i] in ("—", "") for r in rows[1:])}
    return [tuple(c for i, c in enumerate(r) if i not in empty) for r in rows]


def is_posterior_entry(entry: Any) -> bool:
    """Whether a summary entry is a fit parameter's posterior (``value`` = mean, ``sd``, ``eti_5``, …)."""
    return isinstance(entry, dict) and {"value", "sd", "eti_5", "eti_95", "mcse"} <= set(entry)


def format_fit_table(observables: dict, exact: dict[str, float] | None = None) -> str:
    r"""The posterior table of a fit: one row per parameter.

    Columns (:data:`FIT_COLUMNS`): posterior mean ± posterior sd, the 90 % equal-tailed interval
    ``[eti_5, eti_95]``, the MCSE of the posterior mean, the exact value and the distance

    .. math:: d = (\bar\theta - \theta_\mathrm{exact}) / \mathrm{sd}.

    The last two columns are left out when no parameter has an exact value.

    Parameters
    ----------
    observables : dict
        The ``observables`` of a fit's summary: name -> ``value`` (posterior mean), ``sd``,
        ``eti_5``, ``eti_95``, ``mcse`` and optionally ``exact``; other entries are skipped.
    exact : dict, optional
        Exact values by parameter name, used instead of the entries' own (e.g. the values a
        synthetic data set was made from).

    Returns
    -------
    str
        The table, a dashed line under the header, and a legend line.
    """
    rows = [FIT_COLUMNS]
    for name, e in observables.items():
        if not is_posterior_entry(e):
            continue
        ex = (exact or {}).get(name, e.get("exact"))
        mean, sd = e["value"], e["sd"]
        known = ex is not None and mean is not None and sd is not None and sd > 0
        rows.append((name, f"{_fmt(mean)} ± {_fmt(sd, '.2g')}", f"[{_fmt(e['eti_5'])}, {_fmt(e['eti_95'])}]",
                     _fmt(e["mcse"], ".2g"), _fmt(ex), f"{(mean - ex) / sd:+.2f}" if known else "—"))
    return _render(_drop_empty(rows, (4, 5)), [_FIT_LEGEND])


def _verdict_cell(entry: dict, mcse: float | None) -> str:
    """``verdict: z = …``, saying what z is where it is not the printed value over the printed MCSE:
    the σ it is in units of, the reference it is measured from, or the statistic it judges."""
    text, z = str(entry["verdict"]), entry.get("z")
    if z is None:
        return text
    held = entry.get("held_out")
    if isinstance(held, dict) and held.get("value") is not None:  # reflection positivity: sample splitting
        return f"{text}: z = {z:.2f} of held-out q = {held['value']:.3g} ± {_fmt(held.get('mcse'), '.2g')}"
    if entry.get("tolerance") is not None:  # an affirmative claim below a tolerance
        return f"{text}: z = (value − {entry['tolerance']:g})/MCSE = {z:.2f}"
    sigma = entry.get("sigma")
    if sigma is not None and (mcse is None or not np.isclose(sigma, mcse, rtol=1e-3, atol=0.0)):
        name = "√(MCSE² + systematic²)" if entry.get("systematic") else "σ"
        return f"{text}: z = {z:.2f}, σ = {name} = {sigma:.2g}"
    return f"{text}: z = {z:.2f}"


def _element(x: Any, shape: tuple[int, ...], idx: tuple[int, ...], broadcast: bool = False) -> float | None:
    """Element ``idx`` of ``x`` if it has the value's shape (or, with ``broadcast``, ``x`` itself if it
    is a scalar, as a list entry's one systematic), else None."""
    if x is None:
        return None
    a = np.asarray(x, dtype=float)
    if a.shape == shape:
        return float(a[idx])
    return float(a) if broadcast and a.ndim == 0 else None


def format_table(observables: dict, max_rows_per_list: int = 9) -> str:
    """The table of a run's ``observables``: the posterior table of a fit, else the Monte Carlo table.

    Monte Carlo table columns: observable, value ± MCSE (:data:`MC_VALUE_COLUMN`), systematic,
    exact (on the lattice), continuum, verdict; a column with nothing in it is left out. Legend
    lines below say what the ± and z are in units of. A list entry (e.g. the levels of ``gaps``)
    gives one row per element, as does an array entry, up to ``max_rows_per_list`` rows.

    Parameters
    ----------
    observables : dict
        The ``observables`` of a run's summary.
    max_rows_per_list : int
        Rows shown per array entry; the rest is counted.

    Returns
    -------
    str
        The table.
    """
    if any(is_posterior_entry(e) for e in observables.values()):
        return format_fit_table(observables)
    rows = [("observable", MC_VALUE_COLUMN, "systematic", "exact", "continuum", "verdict")]
    flat: list[tuple[str, Any]] = []
    for name, entry in observables.items():
        if isinstance(entry, list):  # e.g. the levels of ``gaps``
            flat += [(f"{name}[{i}]", e) for i, e in enumerate(entry)]
        else:
            flat.append((name, entry))
    for name, entry in flat:
        if not isinstance(entry, dict) or "value" not in entry:
            continue
        if entry["value"] is None:  # the quantity does not exist for this model: summary.json says why
            rows.append((name, "— (no value: see its note in summary.json)", "", "", "", ""))
            continue
        value = np.asarray(entry["value"], dtype=float)
        for n, idx in enumerate(np.ndindex(value.shape)):
            if n >= max_rows_per_list:
                rows.append((f"{name}[...]", f"({value.size - n} more in summary.json)", "", "", "", ""))
                break
            mcse = _element(entry.get("mcse"), value.shape, idx)
            label = name + (f"[{','.join(map(str, idx))}]" if idx else "")
            mc = f"{value[idx]:.6g}" + (f" ± {mcse:.2g}" if mcse is not None else "")
            syst = _fmt(_element(entry.get("systematic"), value.shape, idx, broadcast=True), ".2g")
            verdict = _verdict_cell(entry, mcse) if entry.get("verdict") is not None else ""
            rows.append((label, mc, syst, _fmt(_element(entry.get("exact"), value.shape, idx)),
                         _fmt(_element(entry.get("continuum"), value.shape, idx)), verdict))
    rows = _drop_empty(rows, (2, 4, 5))
    legend = [f"{MC_VALUE_COLUMN}: Monte Carlo standard error of the estimate"]
    legend += [_SYST_LEGEND] if "systematic" in rows[0] else []
    legend += [_VERDICT_LEGEND] if "verdict" in rows[0] else []
    return _render(rows, legend)
