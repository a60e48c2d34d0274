"""The printed tables say which uncertainty is which (issue 18).

A fit's table puts the posterior sd beside the posterior mean, the MCSE of the mean in a column
labelled as such, and the distance of the mean from an exact value in posterior sd; ``nnqm run``
and ``nnqm diagnose`` print the same table. (Before: ``E1  1.89559 ± 5.3e-05  1.89455``, the MCSE
beside the mean under "Monte Carlo", which reads as 20σ from the truth for a mean 0.8 sd from it.)
A Monte Carlo table says "± MCSE", prints a stated systematic in its own column, and a verdict's
z with the σ, reference or statistic it is computed from where those are not the printed ones.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from nnqm_ppl.cli import main
from nnqm_ppl.tables import FIT_COLUMNS, MC_VALUE_COLUMN, format_fit_table, format_table

ROOT = Path(__file__).resolve().parent.parent

#: a posterior as the fit task stores it (sd 28x the MCSE, as in the issue)
POSTERIOR = {
    "E1": {"value": 1.89559, "mcse": 5.3e-05, "sd": 0.0013, "eti_5": 1.8935, "eti_95": 1.8977, "exact": 1.89455},
    "A1": {"value": 0.252454, "mcse": 7.3e-05, "sd": 0.0016, "eti_5": 0.2498, "eti_95": 0.2551, "exact": 0.252639},
    "prediction": {"tau": [0.25], "median": [0.1], "eti_5": [0.09], "eti_95": [0.11]},
}


def _rows(table: str) -> list[dict[str, str]]:
    """The rows of a printed table as header -> cell (columns are separated by two or more spaces)."""
    lines = table.splitlines()
    header = re.split(r"\s{2,}", lines[0].strip())
    assert set(lines[1]) <= {"-", " "}
    rows = []
    for line in lines[2:]:
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) == 1:  # a legend line
            continue
        rows.append(dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=True)))
    return rows


def _printed_table(stdout: str, first_header: str) -> str:
    """The table in a command's output: from its header line to the next blank line."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first_header))
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return "\n".join(lines[start:end])


def _mean_pm(cell: str) -> tuple[float, float]:
    mean, err = cell.split(" ± ")
    return float(mean), float(err)


def _check_fit_table(table: str, posterior: dict, exact: dict | None = None) -> None:
    """Every parameter row: mean ± posterior sd, the interval, the MCSE under its own label and
    (where an exact value is given) (mean − exact)/sd."""
    assert table.splitlines()[0].split("  ")[0] == FIT_COLUMNS[0]
    rows = {r["parameter"]: r for r in _rows(table)}
    assert set(rows) == set(posterior)
    for name, p in posterior.items():
        row = rows[name]
        mean, err = _mean_pm(row["posterior mean ± sd"])
        assert mean == pytest.approx(p["mean"], rel=1e-5)
        assert err == pytest.approx(p["sd"], rel=0.05)  # two significant figures
        assert err != pytest.approx(p["mcse"], rel=0.5)  # the sd, not the MCSE
        assert float(row["MCSE of mean"]) == pytest.approx(p["mcse"], rel=0.05)
        lo, hi = (float(x) for x in row["90% interval"].strip("[]").split(", "))
        assert (lo, hi) == (pytest.approx(p["eti_5"], rel=1e-5), pytest.approx(p["eti_95"], rel=1e-5))
        if exact is not None:
            assert float(row["exact"]) == pytest.approx(exact[name], rel=1e-5)
            assert float(row["(mean-exact)/sd"]) == pytest.approx((p["mean"] - exact[name]) / p["sd"], abs=0.006)


def test_fit_table_puts_the_posterior_sd_beside_the_mean():
    table = format_table(POSTERIOR)  # the command's entry point dispatches a fit's observables here
    assert table.splitlines()[0].split() == " ".join(FIT_COLUMNS).split()
    posterior = {n: {"mean": e["value"], **e} for n, e in POSTERIOR.items() if n != "prediction"}
    _check_fit_table(table, posterior, {n: e["exact"] for n, e in posterior.items()})
    rows = {r["parameter"]: r for r in _rows(table)}
    assert rows["E1"]["(mean-exact)/sd"] == "+0.80"  # 0.8 sd from the exact value, not 20 MCSE
    assert "MCSE: Monte Carlo standard error of the posterior mean" in table


def test_fit_table_without_exact_values_and_with_given_ones():
    """No exact value: no exact and distance columns. Given values (e.g. the truth a synthetic
    data set was made from) replace the entries' own."""
    bare = {n: {k: v for k, v in e.items() if k != "exact"} for n, e in POSTERIOR.items()}
    assert format_table(bare).splitlines()[0].split("  ")[-1].strip() == "MCSE of mean"
    table = format_fit_table(bare, {"E1": 1.9})
    rows = {r["parameter"]: r for r in _rows(table)}
    assert rows["E1"]["(mean-exact)/sd"] == f"{(1.89559 - 1.9) / 0.0013:+.2f}" and rows["A1"]["exact"] == "—"


def test_monte_carlo_table_says_mcse_and_prints_systematics_and_the_sigma_of_verdicts():
    obs = {
        "gap": {"value": 1.88, "mcse": 0.058, "exact": 1.8946, "continuum": 1.934, "systematic": 0.0029},
        "x2": {"value": 0.2608, "mcse": 0.0046, "exact": 0.2531},
        "uncertainty": {"value": 0.4965, "mcse": 0.0204, "exact": 0.4959, "continuum": 0.5, "bound": 0.5,
                        "systematic": 0.0041, "verdict": "consistent with ħ/2 (saturated)", "z": 0.1688,
                        "sigma": 0.0208},
        "reflection_positivity": {"value": -0.012, "mcse": 0.0034, "z": -0.177, "verdict": "no violation detected",
                                  "held_out": {"value": 0.00102, "mcse": 0.00576}},
        "clustering": {"value": 0.022, "mcse": 0.0053, "z": -14.7, "verdict": "satisfied", "tolerance": 0.1},
        "stationarity": {"value": 0.0234, "mcse": 0.0119, "z": 1.97, "verdict": "no violation detected"},
    }
    table = format_table(obs)
    rows = {r["observable"]: r for r in _rows(table)}
    assert _rows(table) and MC_VALUE_COLUMN in table.splitlines()[0]
    assert _mean_pm(rows["gap"][MC_VALUE_COLUMN]) == (1.88, 0.058)
    assert rows["gap"]["systematic"] == "0.0029" and rows["x2"]["systematic"] == "—"
    assert rows["uncertainty"]["verdict"].endswith("z = 0.17, σ = √(MCSE² + systematic²) = 0.021")
    assert rows["reflection_positivity"]["verdict"].endswith("z = -0.18 of held-out q = 0.00102 ± 0.0058")
    assert rows["clustering"]["verdict"].endswith("z = (value − 0.1)/MCSE = -14.70")
    assert rows["stationarity"]["verdict"] == "no violation detected: z = 1.97"


@pytest.fixture
def no_figures(monkeypatch):
    """Figures are not saved (they take most of a tiny run's time and are not what is tested)."""
    import matplotlib.pyplot as plt

    from nnqm_ppl import report

    monkeypatch.setattr(report, "write_figure", lambda target, fig: plt.close("all"))


def test_a_fit_prints_the_posterior_table_in_run_and_in_diagnose(tmp_path, capsys, no_figures):
    """A tiny spectral fit (K = 1, one chain of 150 draws): the table ``nnqm run`` prints is the
    posterior table of its summary, with the exact lattice E1 and A1, and ``nnqm diagnose``
    prints the same table (on stderr: stdout stays the diagnostics' JSON)."""
    out = tmp_path / "fit"
    sets = ["fit.states=[1]", "sampler.chains=1", "sampler.warmup=100", "sampler.samples=150"]
    argv = ["run", str(ROOT / "inference" / "fit_spectrum.toml"), "--out", str(out), "--no-progress"]
    rc = main(argv + [a for s in sets for a in ("--set", s)])
    assert rc in (0, 3)
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    table = _printed_table(printed, FIT_COLUMNS[0])
    exact = {n: summary["observables"][n]["exact"] for n in ("E1", "A1")}
    _check_fit_table(table, summary["posterior"], exact)
    assert np.isfinite(list(exact.values())).all()
    assert main(["diagnose", str(out)]) == rc
    again = capsys.readouterr()
    assert again.err.startswith(table) and json.loads(again.out)["passed"] == (rc == 0)


def test_nnqm_table_verdicts_are_reproducible_from_the_printed_numbers(tmp_path, capsys, no_figures):
    """The OU job at 4 x 1000 exact draws: clustering's value ± MCSE is that of the operator its z is
    of, z = (value − tolerance)/MCSE (before: the operator with the larger value was printed, the
    z of the other: 0.022 ± 0.0053 beside z = −10.4), and Δx·Δp's verdict prints its σ."""
    out = tmp_path / "ou"
    assert main(["run", str(ROOT / "inference" / "reflection_positivity.toml"), "--out", str(out), "--no-progress",
                 "--set", "sampler.samples=1000"]) in (0, 3)
    rows = {r["observable"]: r for r in _rows(_printed_table(capsys.readouterr().out, "observable"))}
    obs = json.loads((out / "summary.json").read_text())["observables"]
    cl, unc = obs["clustering"], obs["uncertainty"]
    assert cl["z"] == pytest.approx((cl["value"] - cl["tolerance"]) / cl["mcse"], rel=1e-12)
    assert rows["clustering"]["verdict"].endswith(f"/MCSE = {cl['z']:.2f}")
    assert _mean_pm(rows["clustering"][MC_VALUE_COLUMN]) == (float(f"{cl['value']:.6g}"), float(f"{cl['mcse']:.2g}"))
    assert unc["sigma"] == pytest.approx(np.hypot(unc["mcse"], unc["systematic"]), rel=1e-12)
    assert rows["uncertainty"]["verdict"].endswith(f"= {unc['sigma']:.2g}")
    assert rows["uncertainty"]["systematic"] == f"{unc['systematic']:.2g}"


def test_posterior_figure_draws_the_posterior_sd_as_the_error_bar():
    """``posterior.png``: per parameter the mean with the posterior sd as its error bar (not the
    MCSE), the 90% interval and the exact value, labelled as in the table."""
    import matplotlib.pyplot as plt
    from matplotlib.container import ErrorbarContainer

    from nnqm_ppl.figures.fit import posterior_figure as _posterior_figure

    draws = {"E1": np.random.default_rng(0).normal(1.0, 0.1, size=(1, 400))}
    summary = {"E1": {"mean": 1.0, "sd": 0.1, "mcse": 0.005, "eti_5": 0.84, "eti_95": 1.16}}
    fig = _posterior_figure(draws, summary, {"E1": 1.05})
    ax = fig.axes[0]
    (bar,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    (x0, _), (x1, _) = bar.lines[2][0].get_segments()[0]
    assert (x0, x1) == (pytest.approx(0.9), pytest.approx(1.1))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(s.startswith("posterior mean ± sd (MCSE of mean 0.005)") for s in labels)
    assert {"90% interval", "exact"} <= set(labels) and "(mean-exact)/sd = -0.50" in ax.get_title()
    plt.close(fig)
