"""Learning statistics: STDP updates per map, winners / spikes per image, spikes per map per
class, and the convergence curves C_l and temporal difference.

Input conventions
-----------------
* ``counts`` per map: ``(M,)`` non-negative integers (STDP updates of each map, counted from 0).
* per image: ``(N,)`` numbers in presentation order (image 0 is the first image seen); several
  layers as a ``{name: (N,)}`` dict.
* ``map_counts``: spikes per image per map, ``(N, M)``; any ``(N, ..., M)`` array (e.g. a pool
  spike tensor ``(N, T, H, W, M)`` or counts ``(N, H, W, M)``) is summed over its middle axes.
* ``labels``: ``(N,)`` class labels of those images.
* ``snapshots``: ``{layer name: (S, kh, kw, C_in, C_out)}`` with ``images_seen``:
  ``{layer name: (S,)}`` or one ``(S,)`` array shared by all layers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from numpy.typing import ArrayLike

from .._validation import check_bool, check_in, check_int, check_int_tuple
from ..functional.convergence import convergence_curve, temporal_difference
from ._common import (
    FONTSIZE,
    as_array,
    axes_or_new,
    check_snapshots,
    class_labels,
    class_xticks,
    new_figure,
    no_ticks,
    select_indices,
    style_axes,
)

#: One per-image series ``(N,)``, or one per layer as ``{layer name: (N,)}``.
PerImage = ArrayLike | Mapping[str, ArrayLike]

__all__ = [
    "class_map_counts",
    "zoom_window",
    "plot_stdp_updates_per_map",
    "plot_winners_per_image",
    "plot_spikes_per_image",
    "plot_spikes_per_map_per_class",
    "plot_convergence",
]


def zoom_window(n: int, zoom: tuple[int, int]) -> tuple[int, int]:
    """Clamp a zoom range ``(first, last)`` (inclusive image indices) to ``n`` images.

    A window past the end of the data slides back to the last images, keeping its width.

    >>> zoom_window(6000, (1000, 1020))
    (1000, 1020)
    >>> zoom_window(300, (1000, 1020))
    (279, 299)
    >>> zoom_window(5, (1000, 1020))
    (0, 4)
    """
    lo, hi = check_int_tuple(zoom, "zoom", 2, minimum=0)
    if hi < lo:
        raise ValueError(
            f"Expected zoom = (first, last) with first <= last. Received: zoom={zoom!r}."
        )
    width = hi - lo
    hi = min(hi, n - 1)
    lo = max(0, min(lo, hi - width))
    return lo, hi


def _series(counts: PerImage, default_name: str) -> dict[str, np.ndarray]:
    if isinstance(counts, Mapping):
        if not counts:
            raise ValueError("Expected at least one layer in counts. Received: an empty mapping.")
        return {str(k): as_array(v, f"counts[{k!r}]", ndim=1) for k, v in counts.items()}
    return {default_name: as_array(counts, "counts", ndim=1)}


def _per_image_plot(series: dict[str, np.ndarray], ax: Axes | None,
                    zoom: tuple[int, int] | None, quantity: str, unit: str, title: str,
                    fontsize: float) -> Figure:
    fig, ax = axes_or_new(ax, (8.0, 4.2))
    n_max = max(len(v) for v in series.values())
    ymax = max(float(v.max()) for v in series.values())
    lines = []
    for k, (name, v) in enumerate(series.items()):
        x = np.arange(len(v))
        size = float(np.clip(8000 / len(v), 3.0, 20))
        label = f"{name}: mean = {v.mean():.2f} {unit}/image"
        ax.scatter(x, v, s=size, color=f"C{k}", alpha=0.5, linewidths=0, label=label)
        lines.append(f"Mean = {v.mean():.2f} {unit}/image")
    ax.set_xlim(-0.01 * n_max, n_max * 1.01)
    ax.set_ylim(0, 1.75 * ymax + 1)
    if len(series) == 1:
        ax.text(0.015, 0.97, lines[0], transform=ax.transAxes, va="top", ha="left",
                fontsize=fontsize,
                bbox=dict(boxstyle="round", facecolor="white", edgecolor="0.5"))
    else:
        ax.legend(loc="upper left", fontsize=fontsize - 1, markerscale=3, framealpha=0.95)
    style_axes(ax, fontsize, xlabel="image index (order of presentation)",
               ylabel=f"{quantity} per image", title=title)
    if zoom is not None and n_max >= 2:
        lo, hi = zoom_window(n_max, zoom)
        ins = ax.inset_axes((0.6, 0.55, 0.38, 0.34))
        for k, v in enumerate(series.values()):
            x = np.arange(lo, min(hi, len(v) - 1) + 1)
            if len(x):
                ins.vlines(x, 0, v[x], color=f"C{k}", lw=1, alpha=0.5)
                ins.plot(x, v[x], "o", color=f"C{k}", ms=4)
        ins.set_xlim(lo - 0.5, hi + 0.5)
        ins.set_ylim(0, ymax * 1.1 + 0.5)
        ins.set_title(f"images {lo}-{hi}", fontsize=fontsize - 1, pad=2)
        ins.tick_params(labelsize=fontsize - 2)
        ax.indicate_inset_zoom(ins, edgecolor="0.3")
    return fig


def plot_winners_per_image(counts: PerImage, *, layer_name: str = "Conv1",
                           zoom: tuple[int, int] | None = (1000, 1020), ax: Axes | None = None,
                           fontsize: float = FONTSIZE) -> Figure:
    """STDP winners (weight updates) per training image with a mean box and a zoom inset
    (paper Figs 19, 22, 30).

    Parameters
    ----------
    counts : array ``(N,)`` or ``{layer name: (N,)}``
        Number of STDP winners of each training image, in presentation order
        (``Network.history_["layers"][i]["winners_per_image"]``).
    zoom : (int, int) or None
        Inclusive image-index range of the inset (default 1000-1020), clamped to the data.

    Returns
    -------
    matplotlib.figure.Figure
        A scatter of winners per image, a text box "Mean = ... winners/image", and an inset.
    """
    series = _series(counts, layer_name)
    return _per_image_plot(series, ax, zoom, "STDP winners", "winners",
                           f"STDP winners per image, {layer_name}", fontsize)


def plot_spikes_per_image(counts: PerImage, *, zoom: tuple[int, int] | None = (1000, 1020),
                          ax: Axes | None = None, fontsize: float = FONTSIZE,
                          title: str = "Spikes per image") -> Figure:
    """Spikes per image for one or several layers (``{name: (N,)}``) with mean and zoom inset."""
    series = _series(counts, "spikes")
    return _per_image_plot(series, ax, zoom, "spikes", "spikes", title, fontsize)


def plot_stdp_updates_per_map(counts: ArrayLike, *, layer_name: str = "Conv1",
                              ax: Axes | None = None, fontsize: float = FONTSIZE) -> Figure:
    """Bar chart of STDP weight updates per map (paper Figs 18, 21, 29).

    Parameters
    ----------
    counts : array ``(M,)``
        Number of STDP updates of each map (counters start at 0: a map never updated has 0;
        docs/original/diagnostics.md#learning-statistics).

    Returns
    -------
    matplotlib.figure.Figure
        One bar per map (x = map index), a dashed line at the mean.
    """
    c = as_array(counts, "counts", ndim=1)
    if (c < 0).any():
        raise ValueError("Expected non-negative update counts. Received a negative entry.")
    m = len(c)
    fig, ax = axes_or_new(ax, (max(6.0, min(16.0, 0.22 * m + 2)), 4.0))
    ax.bar(np.arange(m), c, color="tab:blue", width=0.8, label="updates")
    ax.axhline(c.mean(), color="k", ls="--", lw=1, label=f"mean = {c.mean():.1f}")
    step = max(1, int(np.ceil(m / 40)))
    ax.set_xticks(np.arange(0, m, step))
    ax.set_xlim(-0.7, m - 0.3)
    style_axes(ax, fontsize, xlabel="map index", ylabel="STDP weight updates",
               title=f"STDP updates per map, {layer_name} (total {int(c.sum())})")
    ax.legend(fontsize=fontsize - 1, loc="upper right")
    return fig


def class_map_counts(
    map_counts: ArrayLike, labels: ArrayLike, classes: ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sum spikes per class and map.

    Parameters
    ----------
    map_counts : array ``(N, M)`` or ``(N, ..., M)``
        Spikes of each image per map (middle axes are summed).
    labels : array ``(N,)``
    classes : sequence, optional
        Class order (default: sorted unique labels). Classes without images get zero counts.

    Returns
    -------
    raw : ``(K, M)`` total spikes of each class in each map
    per_image : ``(K, M)`` raw divided by the number of images of the class (0 if none)
    classes : ``(K,)`` the class order used
    n_images : ``(K,)`` images per class

    >>> raw, per, cls, n = class_map_counts(np.array([[2, 0], [4, 1], [1, 1]]), [1, 1, 0])
    >>> raw.tolist(), per.tolist(), cls.tolist(), n.tolist()
    ([[1.0, 1.0], [6.0, 1.0]], [[1.0, 1.0], [3.0, 0.5]], [0, 1], [1, 2])
    """
    mc = as_array(map_counts, "map_counts", min_ndim=2)
    if mc.ndim > 2:
        mc = mc.reshape(mc.shape[0], -1, mc.shape[-1]).sum(axis=1)
    lab = np.asarray(labels)
    if lab.ndim != 1 or lab.shape[0] != mc.shape[0]:
        raise ValueError(
            f"Expected labels of shape ({mc.shape[0]},) (one per image of map_counts). "
            f"Received: shape={lab.shape}."
        )
    cls = np.unique(lab) if classes is None else np.asarray(classes)
    if len(set(cls.tolist())) != len(cls):
        raise ValueError(f"Expected distinct classes. Received: classes={cls.tolist()}.")
    missing = set(np.unique(lab).tolist()) - set(cls.tolist())
    if missing:
        raise ValueError(
            f"Expected every label to appear in classes. Received labels not in classes: "
            f"{sorted(missing)[:10]}."
        )
    raw = np.zeros((len(cls), mc.shape[1]))
    n_img = np.zeros(len(cls), int)
    for k, c in enumerate(cls):
        sel = lab == c
        n_img[k] = int(sel.sum())
        raw[k] = mc[sel].sum(axis=0)
    per = raw / np.where(n_img > 0, n_img, 1)[:, None]
    return raw, per, cls, n_img


def plot_spikes_per_map_per_class(
    map_counts: ArrayLike, labels: ArrayLike, *, maps: ArrayLike | None = None,
    classes: ArrayLike | None = None, class_names: Sequence[str] | str | None = None,
    normalize: str = "both", top: int = 5, kernels: ArrayLike | None = None,
    layer_name: str = "Pool1", fig: Figure | None = None, fontsize: float = FONTSIZE,
) -> Figure:
    """Spikes per map per class for selected maps (paper Figs 6, 20, 25, 32).

    Classes stay in the order given (default: sorted labels), never hash order, and the counts
    are shown raw and divided by the images of each class (both were defects of the original,
    docs/original/diagnostics.md#spikes-per-map-per-class). The ``top`` classes of each panel
    are drawn black, the others grey, and the map's kernel is inset.

    Parameters
    ----------
    map_counts, labels, classes : see :func:`class_map_counts`
    maps : sequence of int, optional
        Maps to show, one row each (default: the 4 most active maps).
    class_names : sequence of str or "emnist", optional
        Tick labels per class (``"emnist"`` = the 47 EMNIST-balanced characters, by label).
    normalize : {"both", "raw", "per_image"}
        Raw spike totals, totals divided by the number of images of the class, or both
        side by side (default).
    kernels : array ``(M, h, w, 3)``, optional
        RGB image of every map's kernel (e.g. :func:`spykeflow.plotting.kernels_rgb`), inset in
        each row.

    Returns
    -------
    matplotlib.figure.Figure
        ``len(maps)`` rows x (1 or 2) columns of bar charts, x axis = classes in order.
    """
    raw, per, cls, n_img = class_map_counts(map_counts, labels, classes)
    check_in(normalize, "normalize", ("both", "raw", "per_image"))
    top = check_int(top, "top", minimum=0)
    n_maps = raw.shape[1]
    if maps is None:
        maps = np.argsort(-raw.sum(axis=0), kind="stable")[: min(4, n_maps)]
    shown = select_indices(np.atleast_1d(maps), n_maps, "maps").tolist()
    names = class_labels(class_names, cls)
    if kernels is not None:
        kernels = as_array(kernels, "kernels", ndim=4)
        if kernels.shape[0] != n_maps or kernels.shape[-1] != 3:
            raise ValueError(
                f"Expected kernels of shape ({n_maps}, h, w, 3) (RGB per map, see kernels_rgb). "
                f"Received: shape={kernels.shape}."
            )
    panels = {"both": [("raw", raw), ("per_image", per)], "raw": [("raw", raw)],
              "per_image": [("per_image", per)]}[normalize]
    k = len(cls)
    width = min(18.0, max(6.0, 0.2 * k + 3)) * (1 if len(panels) == 1 else 1.7)
    fig = new_figure((width, 2.7 * len(shown) + 0.6), fig)
    axes = fig.subplots(len(shown), len(panels), squeeze=False)
    tick_fs = fontsize - 1 if k <= 26 else max(6, fontsize - 3)
    for r, m in enumerate(shown):
        for c, (kind, values) in enumerate(panels):
            ax = axes[r, c]
            v = values[:, m]
            order = np.argsort(-v, kind="stable")
            best = set(order[:top].tolist()) if v.max() > 0 else set()
            colours = ["black" if i in best else "0.7" for i in range(k)]
            ax.bar(np.arange(k), v, color=colours, width=0.8)
            class_xticks(ax, names, tick_fs)
            ax.set_xlim(-0.7, k - 0.3)
            ax.set_ylim(0, max(v.max(), 1e-9) * 1.35)
            ylabel = "spikes (total)" if kind == "raw" else "spikes per image"
            title = (f"map {m}: {layer_name} spikes per class"
                     if kind == "raw" else f"map {m}: normalised by images per class")
            style_axes(ax, fontsize, xlabel="class" if r == len(shown) - 1 else None,
                       ylabel=ylabel, title=title)
            if kernels is not None and c == 0:
                ins = ax.inset_axes((0.87, 0.62, 0.12, 0.36))
                ins.imshow(kernels[m], interpolation="nearest", vmin=0, vmax=1)
                no_ticks(ins)
    fig.legend(handles=[Patch(color="black", label=f"top {top} classes of the panel"),
                        Patch(color="0.7", label="other classes")],
               loc="outside lower center", ncols=2, fontsize=fontsize - 1, frameon=False)
    fig.suptitle(f"Spikes per map per class, {layer_name} ({int(n_img.sum())} images, "
                 f"{k} classes)", fontsize=fontsize + 1)
    return fig


def _snapshot_dict(
    snapshots: ArrayLike | Mapping[str, ArrayLike],
    images_seen: ArrayLike | Mapping[str, ArrayLike],
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    if not isinstance(snapshots, Mapping):
        snapshots = {"Conv1": snapshots}
    if not snapshots:
        raise ValueError("Expected at least one layer in snapshots. Received: an empty mapping.")
    out = {}
    for name, s in snapshots.items():
        seen = images_seen[name] if isinstance(images_seen, Mapping) else images_seen
        out[str(name)] = check_snapshots(s, seen, name=f"snapshots[{name!r}]", ndim=None,
                                         seen_name=f"images_seen[{name!r}]")
    return out


def plot_convergence(
    snapshots: ArrayLike | Mapping[str, ArrayLike],
    images_seen: ArrayLike | Mapping[str, ArrayLike], *,
    stop_band: tuple[float, float] | None = (0.01, 0.02), td_log: bool = True,
    fig: Figure | None = None, fontsize: float = FONTSIZE,
) -> Figure:
    """Convergence C_l and temporal difference of every layer on one figure (Figs 23, 24;
    docs/original/diagnostics.md#convergence).

    Parameters
    ----------
    snapshots : ``{layer name: (S, ...)}`` or one ``(S, ...)`` array ("Conv1")
        Weight snapshots of each layer.
    images_seen : ``{layer name: (S,)}`` or ``(S,)``
        Training images the layer had seen at each snapshot (x axis).
    stop_band : (float, float) or None
        Shade Kheradpisheh et al.'s stopping range 0.01 < C_l < 0.02.
    td_log : bool
        Logarithmic y axis for the temporal difference (it spans decades).

    Returns
    -------
    matplotlib.figure.Figure
        Two Axes: C_l per snapshot, and TD between consecutive snapshots (plotted at the
        later snapshot), one line per layer.
    """
    data = _snapshot_dict(snapshots, images_seen)
    td_log = check_bool(td_log, "td_log")
    fig = new_figure((11.0, 4.2), fig)
    ax_c, ax_t = fig.subplots(1, 2)
    for k, (name, (s, seen)) in enumerate(data.items()):
        ax_c.plot(seen, convergence_curve(s), "-o", ms=3, color=f"C{k}", label=name)
        td = temporal_difference(s)
        if len(td):
            ok = td > 0 if td_log else np.ones_like(td, bool)
            ax_t.plot(seen[1:][ok], td[ok], "-o", ms=3, color=f"C{k}", label=name)
    if stop_band is not None:
        ax_c.axhspan(stop_band[0], stop_band[1], color="0.85", zorder=0,
                     label=f"stop range ${stop_band[0]:g} < C_l < {stop_band[1]:g}$")
    ax_c.set_ylim(bottom=0)
    if td_log:
        ax_t.set_yscale("log")
    style_axes(ax_c, fontsize, xlabel="images seen", ylabel=r"$C_l = \sum w(1-w)/n$",
               title="Convergence $C_l$")
    style_axes(ax_t, fontsize, xlabel="images seen",
               ylabel=r"TD $= \sum (W_{s-1}-W_s)^2/n$", title="Temporal difference")
    ax_c.legend(fontsize=fontsize - 1)
    ax_t.legend(fontsize=fontsize - 1)
    return fig
