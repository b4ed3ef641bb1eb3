"""Learned-feature views: kernel grids, kernel evolution, and deeper kernels reconstructed
through the layers below them.

Input conventions
-----------------
* ``weights`` of one STDP convolution layer: ``(kh, kw, C_in, C_out)`` floats in [0, 1]
  (the layout of :mod:`spykeflow.layers` and of the original SpykeFlow).
* ``layer_weights``: a list of such arrays from the first convolution layer up to the layer to
  show, ``[W1, W2, ...]`` with ``W[l].shape[2] == W[l-1].shape[3]``. A pooling layer sits between
  consecutive convolution layers; its window and stride are ``pool_size`` / ``pool_stride``
  (one value for all, or one per gap).
* ``snapshots``: ``(S, kh, kw, C_in, C_out)`` (or a list of S weight arrays) with ``images_seen``,
  the number of training images seen when each snapshot was taken, shape ``(S,)``.

Colours: channel 0 (ON) and channel 1 (OFF) of the first layer's input are drawn in the green
and red planes (``kernel_rgb="off_red"``: R = OFF, G = ON, B = 0, so a synapse that is strong for
both shows yellow and a near-zero one black), or swapped with ``kernel_rgb="on_red"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from .._validation import check_float, check_in, check_int, check_int_tuple
from ._common import (
    FONTSIZE,
    as_array,
    channel_rgb,
    check_snapshots,
    grid_shape,
    new_figure,
    no_ticks,
    onoff_legend_handles,
    select_indices,
    style_axes,
)

__all__ = [
    "receptive_field_sizes",
    "reconstruct_features",
    "features_rgb",
    "kernels_rgb",
    "plot_feature_grid",
    "plot_reconstructed_features",
    "plot_kernel_evolution",
    "kernel_mosaic",
    "snapshot_rgb",
    "draw_mosaic",
]


#: Pool window / stride between consecutive convolution layers: one int for all, or one per gap.
PoolArg = int | Sequence[int]


def _pool_geometry(pool_size: PoolArg, pool_stride: PoolArg | None,
                   n_gaps: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """One pool window and one stride per gap between ``n_gaps + 1`` convolution layers (the
    stride defaults to the window)."""
    pools = check_int_tuple(pool_size, "pool_size", n_gaps)
    strides = pools if pool_stride is None else check_int_tuple(pool_stride, "pool_stride", n_gaps)
    return pools, strides


def receptive_field_sizes(kernel_sizes: Sequence[int], pool_size: PoolArg = 2,
                          pool_stride: PoolArg | None = None) -> list[int]:
    """Receptive-field size of one unit of the last convolution layer in every space below it.

    A unit of the top layer sees ``k_L`` units of the pooled map below; un-pooling a window of
    ``r`` pooled units gives ``(r - 1) * stride + pool_size`` convolution units, and going through
    a convolution of kernel ``k`` gives ``r + k - 1`` units of its input.

    Parameters
    ----------
    kernel_sizes : sequence of int
        Kernel size of each convolution layer, first to last.
    pool_size, pool_stride : int or sequence of int
        Pooling window and stride between consecutive convolution layers (stride defaults to the
        window).

    Returns
    -------
    list of int
        Sizes from the top layer's input space downwards: ``[k_L, conv_{L-1} space,
        input of conv_{L-1}, ..., input space]``.

    Examples
    --------
    The published Conv1 (5x5) -> Pool1 (2x2, stride 2) -> Conv2 (5x5): 10x10 in Conv1 space and
    14x14 in input space (the original used 12 and 17, see
    docs/original/diagnostics.md#deeper-features).

    >>> receptive_field_sizes([5, 5])
    [5, 10, 14]
    >>> receptive_field_sizes([5, 5, 5])
    [5, 10, 14, 28, 32]
    """
    ks = [check_int(k, f"kernel_sizes[{i}]") for i, k in enumerate(kernel_sizes)]
    if not ks:
        raise ValueError("Expected at least one kernel size. Received: kernel_sizes=[].")
    n_gaps = len(ks) - 1
    pools, strides = _pool_geometry(pool_size, pool_stride, n_gaps)
    sizes = [ks[-1]]
    r = ks[-1]
    for layer in range(n_gaps - 1, -1, -1):
        r = (r - 1) * strides[layer] + pools[layer]
        sizes.append(r)
        r = r + ks[layer] - 1
        sizes.append(r)
    return sizes


def _unpool(canvas: np.ndarray, pool: int, stride: int) -> np.ndarray:
    """Spread every synapse of ``canvas`` (M, h, w, C) over its whole pool window.

    Overlapping windows (pool > stride) keep the maximum.
    """
    m, h, w, c = canvas.shape
    out = np.zeros((m, (h - 1) * stride + pool, (w - 1) * stride + pool, c))
    for a in range(pool):
        for b in range(pool):
            view = out[:, a : a + stride * (h - 1) + 1 : stride,
                       b : b + stride * (w - 1) + 1 : stride]
            np.maximum(view, canvas, out=view)
    return out


#: Weights of one convolution layer ``(kh, kw, C_in, C_out)``, or the list of weights of a
#: chain of layers, first layer first.
LayerWeights = ArrayLike


def _weight_chain(layer_weights: LayerWeights) -> list[np.ndarray]:
    """The conv weights ``[W1, W2, ...]`` (first layer first) as float arrays ``(kh, kw, C_in,
    C_out)``, each layer's ``C_in`` equal to the ``C_out`` of the layer below; a single 4-D
    array is a chain of one."""
    if isinstance(layer_weights, np.ndarray) and layer_weights.ndim == 4:
        layer_weights = [layer_weights]
    if not isinstance(layer_weights, (list, tuple)) or not layer_weights:
        raise TypeError(
            "Expected layer_weights to be a (kh, kw, C_in, C_out) array or a non-empty list of "
            f"them (first convolution layer first). Received: {type(layer_weights).__name__}."
        )
    ws = [as_array(w, f"layer_weights[{i}]", ndim=4) for i, w in enumerate(layer_weights)]
    for i in range(1, len(ws)):
        if ws[i].shape[2] != ws[i - 1].shape[3]:
            raise ValueError(
                f"Expected layer_weights[{i}] to have C_in = {ws[i - 1].shape[3]} (the maps of "
                f"layer_weights[{i - 1}]). Received: shapes {ws[i - 1].shape} and {ws[i].shape}; "
                "pass the layers in order, first convolution layer first."
            )
    return ws


def reconstruct_features(layer_weights: LayerWeights, pool_size: PoolArg = 2,
                         pool_stride: PoolArg | None = None,
                         threshold: float = 0.3) -> np.ndarray:
    """Project the kernels of the last convolution layer into the input space of the first.

    For each map of the top layer (the original's algorithm without its defects,
    docs/original/diagnostics.md#deeper-features):

    1. take its kernel ``(k, k, C)`` in the pooled space below;
    2. un-pool: each synapse covers its whole pool window ``[s*i, s*i + p)`` of the
       convolution map below (not a single location);
    3. at every location of that canvas take the dominant lower map ``c* = argmax_c`` and its
       weight ``w*``; if ``w* > threshold`` add ``w* * K_lower[:, :, :, c*]`` at that offset;
    4. repeat 2-3 down to the first layer. Intermediate canvases are divided by their maximum
       before thresholding (the top kernel's weights are used as they are, in [0, 1]).

    The result for the published geometry (5x5 kernels, 2x2/2 pooling) is 14x14 in input space
    (10x10 in Conv1 space); it works for any number of layers.

    Parameters
    ----------
    layer_weights : list of arrays ``(kh, kw, C_in, C_out)``
        Final weights from the first convolution layer up to the one to reconstruct. A single
        4-D array is returned transposed, unchanged.
    pool_size, pool_stride : int or sequence of int
        Pool window and stride between consecutive convolution layers (stride = window by
        default).
    threshold : float
        Synapses and dominant-map weights at or below this are ignored (0.3 as in the original).

    Returns
    -------
    ndarray, shape ``(C_out, H_rf, W_rf, C_in0)``
        Non-negative reconstructed kernels in the first layer's input channels (ON/OFF), not
        normalised; see :func:`features_rgb` for display colours.

    Examples
    --------
    >>> w1 = np.zeros((1, 1, 2, 1)); w1[0, 0, 0, 0] = 1.0      # Conv1: 1x1, ON only
    >>> w2 = np.zeros((2, 2, 1, 1)); w2[0, 0, 0, 0] = 0.9      # Conv2: one strong synapse
    >>> r = reconstruct_features([w1, w2])                      # 2x2 pool: (2-1)*2+2 = 4
    >>> r.shape
    (1, 4, 4, 2)
    >>> r[0, :, :, 0]
    array([[0.9, 0.9, 0. , 0. ],
           [0.9, 0.9, 0. , 0. ],
           [0. , 0. , 0. , 0. ],
           [0. , 0. , 0. , 0. ]])
    """
    ws = _weight_chain(layer_weights)
    n_gaps = len(ws) - 1
    canvas = np.moveaxis(ws[-1], 3, 0)  # (M, k, k, C)
    if n_gaps == 0:
        return canvas.copy()
    pools, strides = _pool_geometry(pool_size, pool_stride, n_gaps)
    threshold = check_float(threshold, "threshold")
    for layer in range(n_gaps - 1, -1, -1):
        if layer < n_gaps - 1:  # intermediate canvas: sums of weights, rescale to [0, 1]
            peak = canvas.reshape(canvas.shape[0], -1).max(axis=1)
            canvas = canvas / np.where(peak > 0, peak, 1.0)[:, None, None, None]
        canvas = _unpool(canvas, pools[layer], strides[layer])
        dom = canvas.argmax(axis=-1)  # (M, H, W)
        wmax = canvas.max(axis=-1)
        wmax = np.where(wmax > threshold, wmax, 0.0)
        kernel = ws[layer]  # (k, k, C_below, C)
        k_h, k_w = kernel.shape[:2]
        m, h, w = dom.shape
        out = np.zeros((m, h + k_h - 1, w + k_w - 1, kernel.shape[2]))
        for i in range(k_h):
            for j in range(k_w):
                # kernel[i, j][:, dom] -> (C_below, M, H, W)
                contrib = np.moveaxis(kernel[i, j][:, dom], 0, -1) * wmax[..., None]
                out[:, i : i + h, j : j + w, :] += contrib
        canvas = out
    return canvas


def features_rgb(features: ArrayLike, kernel_rgb: str = "off_red",
                 normalize: str | None = "per_map") -> np.ndarray:
    """Colour-code kernels ``(M, h, w, C)`` with C in {1, 2} as RGB ``(M, h, w, 3)`` in [0, 1].

    Parameters
    ----------
    features : array ``(M, h, w, C)``
        Kernels per map (e.g. ``np.moveaxis(W1, 3, 0)`` or :func:`reconstruct_features`).
    kernel_rgb : {"off_red", "on_red"}
        "off_red": R = OFF, G = ON, B = 0 (default); "on_red": R = ON, G = OFF.
    normalize : {"per_map", "global", None}
        Divide by each map's maximum, by the overall maximum, or only clip to [0, 1] (right for
        first-layer weights, which already lie in [0, 1]).

    >>> f = np.zeros((2, 1, 1, 2)); f[0, 0, 0] = [2.0, 0.0]; f[1, 0, 0] = [0.0, 0.5]
    >>> features_rgb(f)[:, 0, 0].tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    """
    f = as_array(features, "features", ndim=4)
    check_in(normalize, "normalize", ("per_map", "global", None))
    if normalize == "per_map":
        peak = f.reshape(f.shape[0], -1).max(axis=1)
        f = f / np.where(peak > 0, peak, 1.0)[:, None, None, None]
    elif normalize == "global":
        peak = f.max()
        f = f / (peak if peak > 0 else 1.0)
    return np.clip(channel_rgb(f, kernel_rgb), 0.0, 1.0)


def kernels_rgb(layer_weights: LayerWeights, pool_size: PoolArg = 2,
                pool_stride: PoolArg | None = None, threshold: float = 0.3,
                kernel_rgb: str = "off_red", normalize: str | None = "auto") -> np.ndarray:
    """RGB image per map ``(M, h, w, 3)`` of a layer, reconstructed through lower layers if any.

    ``normalize="auto"`` clips first-layer weights to [0, 1] (they are weights already) and
    normalises reconstructed kernels per map.

    >>> w = np.full((5, 5, 2, 3), 0.5)
    >>> kernels_rgb(w).shape
    (3, 5, 5, 3)
    """
    ws = _weight_chain(layer_weights)
    feats = reconstruct_features(ws, pool_size, pool_stride, threshold)
    check_in(normalize, "normalize", ("auto", "per_map", "global", None))
    if normalize == "auto":
        normalize = None if len(ws) == 1 else "per_map"
    return features_rgb(feats, kernel_rgb=kernel_rgb, normalize=normalize)


def draw_mosaic(ax: Axes, mosaic: np.ndarray, kernel_hw: tuple[int, int], ncols: int,
                maps: Sequence[int] | np.ndarray, fontsize: float = FONTSIZE) -> Any:
    """Draw a :func:`kernel_mosaic` image on ``ax``, labelled by map index.

    Rows are labelled with the index of their first map, columns with the offset added to it.
    Returns the AxesImage (its data can be replaced frame by frame).
    """
    h, w = kernel_hw
    nrows = int(np.ceil(len(maps) / ncols))
    image = ax.imshow(mosaic, interpolation="nearest", vmin=0, vmax=1)
    ax.set_xticks(np.arange(ncols) * (w + 1) + (w - 1) / 2, [f"+{c}" for c in range(ncols)])
    ystep = max(1, int(np.ceil(nrows / 30)))
    ax.set_yticks(np.arange(0, nrows, ystep) * (h + 1) + (h - 1) / 2,
                  [str(maps[r * ncols]) for r in range(0, nrows, ystep)])
    ax.tick_params(labelsize=fontsize - 2, length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_xlabel("map index = row label + column offset", fontsize=fontsize - 1)
    return image


def plot_feature_grid(layer_weights: LayerWeights, *, maps: ArrayLike | None = None,
                      ncols: int | None = None, pool_size: PoolArg = 2,
                      pool_stride: PoolArg | None = None, threshold: float = 0.3,
                      kernel_rgb: str = "off_red", normalize: str | None = "auto",
                      title: str | None = None, layout: str = "auto", fig: Figure | None = None,
                      fontsize: float = FONTSIZE, panel_size: float = 0.9) -> Figure:
    """One panel per map of a layer's learned kernels, ON/OFF colour-coded, with a legend.

    Parameters
    ----------
    layer_weights : array ``(kh, kw, C_in, C_out)`` or list of them
        One first-layer weight array (C_in = 2 ON/OFF, or 1), or the list of final weights from
        the first layer up to a deeper one, which is then shown reconstructed through the
        layers below (:func:`reconstruct_features`).
    maps : sequence of int, optional
        Maps to show (default: all, in order).
    ncols : int, optional
        Panels per row (default: near-square grid).
    kernel_rgb : {"off_red", "on_red"}
        Colour mapping of ON/OFF (default R = OFF, G = ON, B = 0).
    normalize : {"auto", "per_map", "global", None}
        See :func:`kernels_rgb`.
    layout : {"auto", "panels", "mosaic"}
        "panels": one Axes per map titled with its index; "mosaic": one tiled image with rows
        labelled by their first map index (fast for hundreds of maps); "auto": panels up to
        64 maps, mosaic beyond.

    Returns
    -------
    matplotlib.figure.Figure
        One image Axes per map (titled with its index), or one mosaic Axes, plus a figure
        legend of the ON/OFF colours.
    """
    ws = _weight_chain(layer_weights)
    rgb = kernels_rgb(ws, pool_size, pool_stride, threshold, kernel_rgb, normalize)
    idx = select_indices(maps, rgb.shape[0], "maps")
    check_in(layout, "layout", ("auto", "panels", "mosaic"))
    if layout == "auto":
        layout = "panels" if len(idx) <= 64 else "mosaic"
    nrows, ncols = grid_shape(len(idx), ncols, aspect=1.5)
    if layout == "mosaic":
        width = min(16.0, max(5.0, 0.55 * ncols + 1.2))
        h, w = rgb.shape[1:3]
        height = min(20.0, (width - 1.0) * nrows * (h + 1) / (ncols * (w + 1)) + 1.5)
        fig = new_figure((width, height), fig)
        draw_mosaic(fig.add_subplot(), kernel_mosaic(rgb[idx], ncols), (h, w), ncols, idx,
                    fontsize)
    else:
        fig = new_figure((max(4.0, ncols * panel_size), nrows * panel_size * 1.1 + 0.9), fig)
        axes = fig.subplots(nrows, ncols, squeeze=False)
        small = max(6, fontsize - 3)
        for k, ax in enumerate(axes.flat):
            if k >= len(idx):
                ax.set_axis_off()
                continue
            ax.imshow(rgb[idx[k]], interpolation="nearest", vmin=0, vmax=1)
            no_ticks(ax)
            ax.set_title(f"{idx[k]}", fontsize=small, pad=2)
    if title is None:
        size = rgb.shape[1]
        title = (
            f"Learned features of conv layer {len(ws)} ({len(idx)} maps, {size}x{size} kernels)"
            if len(ws) == 1 else
            f"Conv layer {len(ws)} features reconstructed in input space "
            f"({size}x{size} receptive field, {len(idx)} maps)"
        )
    fig.suptitle(title, fontsize=fontsize + 1)
    if ws[0].shape[2] == 2:
        fig.legend(handles=onoff_legend_handles(kernel_rgb), loc="outside lower center",
                   ncols=3, fontsize=fontsize - 1, frameon=False,
                   title="panel title = map index" if layout == "panels" else None,
                   title_fontsize=fontsize - 1)
    return fig


def plot_reconstructed_features(layer_weights: LayerWeights, **kwargs: Any) -> Figure:
    """Deeper-layer features reconstructed through the layers below (Figs 26, 31 of the paper).

    Same as :func:`plot_feature_grid` but requires at least two layers, so a forgotten lower
    layer raises instead of showing raw multi-channel kernels.
    """
    ws = _weight_chain(layer_weights)
    if len(ws) < 2:
        raise ValueError(
            "Expected the weights of at least two convolution layers, [W1, W2, ...], first "
            f"layer first. Received: {len(ws)} layer."
        )
    return plot_feature_grid(ws, **kwargs)


def kernel_mosaic(rgb: np.ndarray, ncols: int, gap: int = 1,
                  background: float = 1.0) -> np.ndarray:
    """Tile ``(K, h, w, 3)`` images into one ``(rows*(h+gap)-gap, ncols*(w+gap)-gap, 3)`` image.

    >>> kernel_mosaic(np.zeros((3, 2, 2, 3)), ncols=2).shape
    (5, 5, 3)
    """
    k, h, w, _ = rgb.shape
    nrows = int(np.ceil(k / ncols))
    out = np.full((nrows * (h + gap) - gap, ncols * (w + gap) - gap, 3), background, float)
    for n in range(k):
        r, c = divmod(n, ncols)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = rgb[n]
    return out


def snapshot_rgb(snapshots: ArrayLike,
                 lower_weights: LayerWeights | None = None, pool_size: PoolArg = 2,
                 pool_stride: PoolArg | None = None, threshold: float = 0.3,
                 kernel_rgb: str = "off_red", normalize: str | None = "auto") -> np.ndarray:
    """RGB kernels of every snapshot, ``(S, M, h, w, 3)``; deeper layers via ``lower_weights``."""
    lower = [] if lower_weights is None else _weight_chain(lower_weights)
    return np.stack([
        kernels_rgb(lower + [s], pool_size, pool_stride, threshold, kernel_rgb, normalize)
        for s in np.asarray(snapshots)
    ])


def plot_kernel_evolution(snapshots: ArrayLike, images_seen: ArrayLike, *,
                          lower_weights: LayerWeights | None = None,
                          maps: ArrayLike | None = None, snapshot_index: ArrayLike | None = None,
                          pool_size: PoolArg = 2, pool_stride: PoolArg | None = None,
                          threshold: float = 0.3, kernel_rgb: str = "off_red",
                          normalize: str | None = "auto", layer_name: str = "Conv1",
                          fig: Figure | None = None, fontsize: float = FONTSIZE,
                          cell_inches: float = 0.32) -> Figure:
    """Kernel evolution grid (Fig. 5): one row per snapshot, one column per map.

    Parameters
    ----------
    snapshots : array ``(S, kh, kw, C_in, C_out)`` or list of S weight arrays
    images_seen : array ``(S,)``
        Training images seen at each snapshot; labels the rows.
    lower_weights : list of arrays, optional
        Final weights of the layers below, for a deeper layer (reconstructed display).
    maps, snapshot_index : sequence of int, optional
        Subsets of columns (maps) and rows (snapshots) to show.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes showing the mosaic: y tick labels = images seen per row, x tick labels = map
        indices; a legend of the ON/OFF colours.
    """
    snaps, seen = check_snapshots(snapshots, images_seen)
    rows = select_indices(snapshot_index, snaps.shape[0], "snapshot_index")
    rgb = snapshot_rgb(snaps[rows], lower_weights, pool_size, pool_stride, threshold,
                       kernel_rgb, normalize)  # (S, M, h, w, 3)
    cols = select_indices(maps, rgb.shape[1], "maps")
    rgb = rgb[:, cols]
    s, m, h, w, _ = rgb.shape
    mosaic = kernel_mosaic(rgb.reshape(s * m, h, w, 3), ncols=m)
    width = min(18.0, max(5.0, m * cell_inches * (w + 1) / 6 + 1.8))
    height = min(24.0, max(3.0, s * (width - 1.8) / m * (h + 1) / (w + 1) + 1.6))
    fig = new_figure((width, height), fig)
    ax = fig.add_subplot()
    ax.imshow(mosaic, interpolation="nearest", aspect="equal")
    xstep = max(1, int(np.ceil(m / 30)))
    ystep = max(1, int(np.ceil(s / 40)))
    ax.set_xticks(np.arange(0, m, xstep) * (w + 1) + (w - 1) / 2, [str(c) for c in cols[::xstep]])
    ax.set_yticks(np.arange(0, s, ystep) * (h + 1) + (h - 1) / 2,
                  [f"{int(v)}" for v in seen[rows][::ystep]])
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    style_axes(ax, fontsize, xlabel="map index", ylabel="images seen",
               title=f"Evolution of {layer_name} kernels"
               + (" (reconstructed in input space)" if lower_weights is not None else ""))
    if snaps.shape[3] == 2 or lower_weights is not None:
        fig.legend(handles=onoff_legend_handles(kernel_rgb), loc="outside lower center", ncols=3,
                   fontsize=fontsize - 1, frameon=False)
    return fig
