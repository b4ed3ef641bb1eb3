"""Per-image debug views of one chosen sample (paper Figs 4, 16, 17): input spikes (ON and
OFF, of *this* image), threshold crossings before lateral inhibition, after lateral inhibition,
after STDP competition (with the winners), and pool spikes before/after pool inhibition.

Every stage is summed over maps and time steps. The arrays are handed in (nothing here runs a
network). Each stage may be given for one sample as ``(T, H, W, M)`` or ``(H, W, M)``, or for a
batch ``(N, T, H, W, M)`` with ``index=``. Threshold crossings are counted once per neuron (its
first crossing), so passing the raw ``V >= theta`` mask of every step does not inflate them.
How these views differ from the original's is in docs/original/diagnostics.md#debug-views.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike

from .._validation import check_bool, check_int
from ._common import FONTSIZE, as_array, new_figure, sample_spikes, style_axes, style_colorbar

__all__ = ["plot_debug_views", "summed_activity"]


def summed_activity(x: ArrayLike, name: str = "x", index: int = 0,
                    first_crossing: bool = False) -> np.ndarray:
    """Sum one sample's activity over time and maps -> ``(H, W)``.

    Parameters
    ----------
    x : array ``(N, T, H, W, M)`` (with ``index``), ``(T, H, W, M)``, ``(H, W, M)`` or ``(H, W)``
    first_crossing : bool
        Count each neuron at most once (it crossed the threshold at some step), as needed for
        "before lateral inhibition", where a non-leaky neuron stays above threshold.

    >>> v = np.zeros((3, 1, 2, 2), bool); v[1:, 0, 0, :] = True   # 2 maps above theta for 2 steps
    >>> summed_activity(v, first_crossing=True).tolist()
    [[2, 0]]
    >>> summed_activity(v).tolist()
    [[4, 0]]
    """
    first_crossing = check_bool(first_crossing, "first_crossing")
    arr = np.asarray(x)
    if arr.ndim == 5:
        arr = sample_spikes(arr, name, index=index)
    if arr.ndim not in (2, 3, 4):
        raise ValueError(
            f"Expected {name} of shape (T, H, W, M), (H, W, M), (H, W) or (N, T, H, W, M). "
            f"Received: shape={arr.shape}."
        )
    arr = as_array(arr, name, dtype=None)
    if first_crossing:
        arr = arr != 0
        if arr.ndim == 4:
            arr = arr.any(axis=0)
    if arr.ndim == 4:
        arr = arr.sum(axis=0)
    if arr.ndim == 3:
        arr = arr.sum(axis=-1)
    return arr.astype(int) if arr.dtype == bool or np.issubdtype(arr.dtype, np.integer) else arr


def _winner_rows(winners: ArrayLike | None) -> np.ndarray:
    if winners is None:
        return np.zeros((0, 3), int)
    w = np.asarray(winners)
    if w.size == 0:
        return np.zeros((0, 3), int)
    if w.ndim != 2 or w.shape[1] != 3 or not np.issubdtype(w.dtype, np.integer):
        raise ValueError(
            "Expected winners as integer rows (row, col, map), shape (K, 3). "
            f"Received: shape={w.shape}, dtype={w.dtype}."
        )
    return w


def plot_debug_views(input_spikes: ArrayLike, *, crossings: ArrayLike | None = None,
                     after_inhibition: ArrayLike | None = None,
                     after_competition: ArrayLike | None = None,
                     winners: ArrayLike | None = None, pool_before: ArrayLike | None = None,
                     pool_after: ArrayLike | None = None, index: int = 0,
                     layer_name: str = "Conv1", pool_name: str = "Pool1",
                     fig: Figure | None = None, fontsize: float = FONTSIZE,
                     ncols: int = 4) -> Figure:
    """Debug views of one sample through an STDP layer, all summed over maps and time.

    Parameters
    ----------
    input_spikes : array ``(T, H, W, 2)`` or ``(N, T, H, W, 2)``
        The encoded input of the chosen sample; both ON and OFF are shown.
    crossings : array, optional
        Neurons at or above threshold before lateral inhibition (first crossings counted).
    after_inhibition : array, optional
        Spikes after lateral inhibition (at most one per position).
    after_competition : array, optional
        Spikes of the STDP winners (default: built from ``winners`` when those are given
        together with ``crossings`` or ``after_inhibition``).
    winners : int array ``(K, 3)``, optional
        Winners as (row, col, map); drawn as circles labelled with the map and listed in the
        title as (X, Y, Z) = (column, row, map). From ``Network.history_["layers"][i]["winners"]``
        rows ``[image, map, row, col, step]``: ``w = np.concatenate(h["winners"]);
        w[w[:, 0] == i][:, [2, 3, 1]]``.
    pool_before, pool_after : array, optional
        Pool spikes before and after pool lateral inhibition.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes per given stage (input ON, input OFF, then the given stages in pipeline
        order), each with a colour bar of the summed count.
    """
    sample = sample_spikes(input_spikes, "input_spikes", index=index)
    ncols = check_int(ncols, "ncols")
    if sample.shape[-1] != 2:
        raise ValueError(
            f"Expected input_spikes with 2 channels (ON, OFF). Received: shape={sample.shape}."
        )
    w = _winner_rows(winners)
    if after_competition is None and len(w):
        # the winners alone define the competition panel: one spike at each (row, col, map)
        ref = crossings if crossings is not None else after_inhibition
        if ref is not None:
            ref_shape = np.shape(ref)
            if len(ref_shape) == 5:
                ref_shape = ref_shape[1:]
            h, wd, m = ref_shape[-3:]
            if w[:, 0].max() >= h or w[:, 1].max() >= wd or w[:, 2].max() >= m:
                raise ValueError(
                    f"Expected winners inside the conv map ({h}, {wd}, {m}). "
                    f"Received: max (row, col, map) = {tuple(w.max(axis=0))}."
                )
            competition = np.zeros((h, wd, m), bool)
            competition[w[:, 0], w[:, 1], w[:, 2]] = True
            after_competition = competition
    n_on, n_off = (int((sample[..., c] != 0).sum()) for c in (0, 1))
    stages: list[tuple[str, Any, bool, str]] = [
        (f"input ON ({n_on} spikes)", sample[..., :1], False, "spikes"),
        (f"input OFF ({n_off} spikes)", sample[..., 1:], False, "spikes"),
    ]
    opt = [
        (crossings, f"{layer_name}: threshold crossings\n(before lateral inhibition)", True,
         "maps crossing threshold"),
        (after_inhibition, f"{layer_name}: after lateral inhibition", False, "spikes"),
        (after_competition, f"{layer_name}: after STDP competition\n({len(w)} winners)", False,
         "winner spikes"),
        (pool_before, f"{pool_name}: before pool inhibition", False, "spikes"),
        (pool_after, f"{pool_name}: after pool inhibition", False, "spikes"),
    ]
    names = ["crossings", "after_inhibition", "after_competition", "pool_before", "pool_after"]
    for (arr, title, first, unit), name in zip(opt, names):
        if arr is not None:
            stages.append((title, (arr, name), first, unit))
    n = len(stages)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig = new_figure((3.6 * ncols, 3.5 * nrows + 0.5), fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.set_axis_off()
            continue
        title, data, first, unit = stages[k]
        if isinstance(data, tuple):
            img = summed_activity(data[0], data[1], index=index, first_crossing=first)
        else:
            img = summed_activity(data, "input_spikes")
        im = ax.imshow(img, cmap="viridis", interpolation="nearest", vmin=0,
                       vmax=max(1, float(img.max())))
        ax.tick_params(labelsize=fontsize - 2)
        style_axes(ax, fontsize - 1, xlabel="X (column)", ylabel="Y (row)", title=title)
        cb = fig.colorbar(im, ax=ax, shrink=0.8)
        cb.locator = MaxNLocator(integer=True)
        cb.update_ticks()
        style_colorbar(cb, unit, fontsize - 2)
        if "STDP competition" in title and len(w):
            ax.scatter(w[:, 1], w[:, 0], s=120, facecolors="none", edgecolors="red", lw=1.5)
            for r, c, m in w:
                ax.annotate(f"Z={m}", (c, r), xytext=(4, 4), textcoords="offset points",
                            color="white", fontsize=fontsize - 2, fontweight="bold")
            listing = [f"({c},{r},{m})" for r, c, m in w]
            lines = [" ".join(listing[i:i + 3]) for i in range(0, len(listing), 3)]
            ax.set_xlabel("X (column); winners (X, Y, map Z):\n" + "\n".join(lines),
                          fontsize=fontsize - 2)
    fig.suptitle("Debug views of one sample (summed over maps and time steps)",
                 fontsize=fontsize + 1)
    return fig
