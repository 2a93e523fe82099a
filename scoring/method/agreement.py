"""How far two readings of the same sampled items agree (抽查一致性): raw agreement, Cohen's κ for
outcomes, Krippendorff's α for ratings, each with a seeded bootstrap interval. Pure: DataFrames in,
DataFrames out.

Degenerate cases, defined here once:
- κ when both readings use one and the same category only (all agree, p_e = 1): 0/0, undefined —
  NaN, shown as "—" (the raw agreement, 1.0, says what there is to say).
- α when the ratings hold fewer than two distinct values (no variation to correct for): NaN, "—".
- a group without outcome items has no κ; one without rating items no α (NaN, "—").
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

COLUMNS = ["group", "n", "agreement", "kappa", "alpha", "low", "high"]
DRAWS = 1000  # bootstrap resamples per group
LEVEL = 0.95  # the interval's coverage
TOLERANCE = 1e-9  # two ratings closer than this are the same rating


def cohen_kappa(first: pd.Series | np.ndarray, second: pd.Series | np.ndarray) -> float:
    """Cohen's κ of two readings of the same items (categories as text): (p_o − p_e) / (1 − p_e),
    p_o the share of items both read alike, p_e the share expected by chance from each reading's
    category shares. Computed by statsmodels' `cohens_kappa` on the square contingency table;
    NaN when p_e = 1 (one category only)."""
    from statsmodels.stats.inter_rater import cohens_kappa as sm_kappa

    a, b = np.asarray(first, dtype=str), np.asarray(second, dtype=str)
    if len(a) == 0:
        return float("nan")
    cats = np.unique(np.concatenate([a, b]))
    if len(cats) < 2:
        return float("nan")
    ia, ib = np.searchsorted(cats, a), np.searchsorted(cats, b)
    table = np.zeros((len(cats), len(cats)))
    np.add.at(table, (ia, ib), 1)
    with warnings.catch_warnings():  # statsmodels warns on its variance of a perfect table; κ itself is fine
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(sm_kappa(table).kappa)


def kripp_alpha(first: pd.Series | np.ndarray, second: pd.Series | np.ndarray) -> float:
    """Krippendorff's α (interval metric) of two readings of the same rated items: 1 − D_o / D_e,
    by the `krippendorff` package; items missing a reading (NaN) are left out. NaN with fewer than
    two distinct values."""
    import krippendorff

    data = np.vstack([np.asarray(first, dtype=float), np.asarray(second, dtype=float)])
    data = data[:, ~np.isnan(data).any(axis=0)]
    if data.shape[1] == 0 or len(np.unique(data)) < 2:
        return float("nan")
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="interval"))


def agrees(pairs: pd.DataFrame) -> np.ndarray:
    """Per item: do the two readings agree — the same outcome, and for ratings the same value."""
    rated = pairs["kind"].astype(str).to_numpy() == "rating"
    same_outcome = pairs["first"].astype(str).to_numpy() == pairs["second"].astype(str).to_numpy()
    v1, v2 = pairs["first_value"].to_numpy(float), pairs["second_value"].to_numpy(float)
    same_value = np.abs(v1 - v2) <= TOLERANCE
    return np.where(rated, same_value, same_outcome)


def _stats(pairs: pd.DataFrame) -> tuple[float, float, float]:
    """(raw agreement, κ over the outcome items, α over the rating items)."""
    rated = pairs["kind"].astype(str) == "rating"
    outcomes, ratings = pairs[~rated], pairs[rated]
    kappa = cohen_kappa(outcomes["first"], outcomes["second"]) if len(outcomes) else float("nan")
    alpha = kripp_alpha(ratings["first_value"], ratings["second_value"]) if len(ratings) else float("nan")
    return float(agrees(pairs).mean()) if len(pairs) else float("nan"), kappa, alpha


def kappas(first: np.ndarray, second: np.ndarray, resamples: np.ndarray) -> np.ndarray:
    """κ of many resamples at once (rows of `resamples`: item positions), the same formula as
    `cohen_kappa` vectorised with numpy (statsmodels' function takes ~6 ms a call, too slow for
    a thousand resamples per group); NaN where p_e = 1."""
    cats, codes = np.unique(np.concatenate([first, second]), return_inverse=True)
    k, n = len(cats), resamples.shape[1]
    a, b = codes[: len(first)][resamples], codes[len(first):][resamples]
    p_o = (a == b).mean(axis=1)
    rows = np.arange(len(resamples))[:, None]
    count_a, count_b = np.zeros((len(resamples), k)), np.zeros((len(resamples), k))
    np.add.at(count_a, (rows, a), 1)
    np.add.at(count_b, (rows, b), 1)
    p_e = (count_a * count_b).sum(axis=1) / n**2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.isclose(p_e, 1.0), np.nan, (p_o - p_e) / (1 - p_e))


def alphas(first: np.ndarray, second: np.ndarray, resamples: np.ndarray) -> np.ndarray:
    """Krippendorff's α (interval) of many resamples at once, the same value as `kripp_alpha` (the
    package takes ~0.3 ms a call: 1,000 resamples of each rating group made the report's national
    sections take minutes). For two readings of each item, items missing one dropped, with n the
    number of values (twice the complete items): D_o = (2/n)·Σ(a − b)², D_e = 2·SS/(n − 1), SS the
    sum of squares of all n values about their mean, so α = 1 − (n − 1)·Σ(a − b)² / (n·SS); NaN
    with no complete item or a single value (SS = 0)."""
    a, b = first[resamples], second[resamples]
    whole = ~(np.isnan(a) | np.isnan(b))
    a, b = np.where(whole, a, 0.0), np.where(whole, b, 0.0)
    n = 2 * whole.sum(axis=1)
    diff = ((a - b) ** 2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = ((a + b).sum(axis=1) / n)[:, None]
        ss = (whole * ((a - mean) ** 2 + (b - mean) ** 2)).sum(axis=1)
        high = np.where(whole, np.maximum(a, b), -np.inf).max(axis=1)
        one_value = high == np.where(whole, np.minimum(a, b), np.inf).min(axis=1)  # also true of no item
        return np.where((n == 0) | one_value, np.nan, 1 - (n - 1) * diff / (n * ss))


def bootstrap(pairs: pd.DataFrame, *, seed: int, draws: int = DRAWS, level: float = LEVEL) -> tuple[float, float]:
    """A percentile bootstrap interval (items resampled with replacement, numpy's Generator seeded
    with `seed`) of the group's chance-corrected coefficient: κ when it has outcome items, else α.
    Resamples where the coefficient is undefined are left out; NaN when all are."""
    rng = np.random.default_rng(seed)
    rated = (pairs["kind"].astype(str) == "rating").to_numpy()
    use_kappa = not rated.all()
    part = pairs[~rated] if use_kappa else pairs[rated]
    if len(part) == 0:
        return float("nan"), float("nan")
    resamples = rng.integers(0, len(part), size=(draws, len(part)))
    if use_kappa:
        values = kappas(part["first"].astype(str).to_numpy(), part["second"].astype(str).to_numpy(), resamples)
    else:
        a, b = part["first_value"].to_numpy(float), part["second_value"].to_numpy(float)
        values = alphas(a, b, resamples)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def agreement_table(pairs: pd.DataFrame, by: str, *, seed: int = 0, draws: int = DRAWS) -> pd.DataFrame:
    """Per group of `by` (a column of `pairs`): `group,n,agreement,kappa,alpha,low,high`.

    `pairs`: one row per sampled item with both readings — `kind`, `first`/`second` (outcomes:
    on_time, late, missing, met, short, pass, fail, rated) and `first_value`/`second_value` (ratings).
    Each group's interval is seeded with `seed` (the same pairs give the same interval)."""
    rows = []
    for group, part in pairs.groupby(by, sort=True, observed=True):
        agreement, kappa, alpha = _stats(part)
        low, high = bootstrap(part, seed=seed, draws=draws)
        rows.append((str(group), len(part), agreement, kappa, alpha, low, high))
    return pd.DataFrame(rows, columns=COLUMNS)
