"""Encoder views: DoG kernels with colour bars (paper Fig. 2) and the encoding of one image
(original / DoG response / spike reconstruction, for ON and OFF, with spike counts).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from ._common import (
    FONTSIZE,
    as_array,
    first_spike_image,
    new_figure,
    no_ticks,
    sample_spikes,
    style_axes,
    style_colorbar,
)

__all__ = ["plot_dog_kernels", "plot_encoder_view"]


def plot_dog_kernels(kernels: ArrayLike, *,
                     names: Sequence[str] | None = None, annotate: bool | None = None,
                     fig: Figure | None = None, fontsize: float = FONTSIZE,
                     cmap: str = "RdBu_r") -> Figure:
    """Difference-of-Gaussians kernels with one colour bar each (paper Fig. 2).

    Parameters
    ----------
    kernels : array ``(k, k)``, ``(k, k, K)`` or list of 2-D arrays
        One ON-centre kernel (the OFF kernel is drawn as its negative, as the original
        computes OFF = -ON, docs/original/encoding.md), or K kernels to show side by side.
    names : sequence of str, optional
        Panel titles (default "ON centre" / "OFF centre" for the one-kernel case).
    annotate : bool, optional
        Write each value in its cell (default for kernels up to 9x9).

    Returns
    -------
    matplotlib.figure.Figure
        One Axes per kernel (symmetric diverging colour scale around 0) and its colour bar.
    """
    if isinstance(kernels, (list, tuple)):
        ks = [as_array(k, f"kernels[{i}]", ndim=2) for i, k in enumerate(kernels)]
    else:
        arr = as_array(kernels, "kernels", ndim=(2, 3))
        ks = [arr, -arr] if arr.ndim == 2 else [arr[..., i] for i in range(arr.shape[-1])]
        if arr.ndim == 2 and names is None:
            names = ["ON centre", "OFF centre (= -ON)"]
    if names is None:
        names = [f"kernel {i}" for i in range(len(ks))]
    if len(names) != len(ks):
        raise ValueError(f"Expected {len(ks)} names. Received: {len(names)}.")
    if annotate is None:
        annotate = max(k.shape[0] for k in ks) <= 9
    fig = new_figure((4.2 * len(ks), 3.8), fig)
    axes = fig.subplots(1, len(ks), squeeze=False)[0]
    for ax, k, name in zip(axes, ks, names):
        lim = float(np.abs(k).max()) or 1.0
        im = ax.imshow(k, cmap=cmap, vmin=-lim, vmax=lim, interpolation="nearest")
        size = k.shape[0]
        ax.set_xticks(range(size))
        ax.set_yticks(range(size))
        style_axes(ax, fontsize, xlabel="column (pixels)", ylabel="row (pixels)",
                   title=f"{name}, {k.shape[0]}x{k.shape[1]}")
        if annotate:
            for (r, c), v in np.ndenumerate(k):
                ax.text(c, r, f"{v:.2f}", ha="center", va="center",
                        fontsize=max(6, fontsize - 3),
                        color="white" if abs(v) > 0.6 * lim else "black")
        style_colorbar(fig.colorbar(im, ax=ax, shrink=0.85), "kernel value", fontsize)
    return fig


def plot_encoder_view(image: ArrayLike, dog: ArrayLike, spikes: ArrayLike, *, index: int = 0,
                      fig: Figure | None = None, fontsize: float = FONTSIZE,
                      title: str | None = None) -> Figure:
    """Encoding of one image: original, DoG response and spike reconstruction for ON and OFF.

    Parameters
    ----------
    image : array ``(H0, W0)``
        The grey input image (any scale; shown as is).
    dog : array ``(H, W, 2)`` or ``(H, W)``
        The ON and OFF DoG maps after thresholding (channel 0 ON, 1 OFF), or one signed
        response (ON = positive part, OFF = negative part).
    spikes : array ``(T, H, W, 2)`` or ``(N, T, H, W, 2)`` (with ``index``)
        The latency-coded spikes of this image.

    Returns
    -------
    matplotlib.figure.Figure
        Five Axes: the original (spanning both rows), the ON and OFF DoG maps with colour
        bars, and the ON and OFF first-spike-time maps (titled with their spike counts; silent
        pixels black) with a colour bar in time steps.
    """
    img = as_array(image, "image", ndim=2)
    d = as_array(dog, "dog", ndim=(2, 3))
    if d.ndim == 2:
        d = np.stack([np.maximum(d, 0), np.maximum(-d, 0)], axis=-1)
    if d.shape[-1] != 2:
        raise ValueError(f"Expected dog of shape (H, W, 2) (ON, OFF). Received: shape={d.shape}.")
    sample = sample_spikes(spikes, index=index)
    if sample.shape[1:] != d.shape:
        raise ValueError(
            f"Expected spikes of shape (T, {d.shape[0]}, {d.shape[1]}, 2) matching dog. "
            f"Received: spikes sample shape={sample.shape}."
        )
    t_steps = sample.shape[0]
    first = first_spike_image(sample)  # (H, W, 2), NaN = silent
    counts = (sample != 0).sum(axis=(0, 1, 2))
    fig = new_figure((11.5, 6.2), fig)
    grid = fig.add_gridspec(2, 3)
    ax0 = fig.add_subplot(grid[:, 0])
    ax0.imshow(img, cmap="gray", interpolation="nearest")
    no_ticks(ax0)
    style_axes(ax0, fontsize, title=f"original ({img.shape[0]}x{img.shape[1]})")
    cmap_t = mpl.colormaps["viridis_r"].with_extremes(bad="black")
    for row, name in enumerate(("ON", "OFF")):
        ax = fig.add_subplot(grid[row, 1])
        im = ax.imshow(d[..., row], cmap="magma", interpolation="nearest")
        no_ticks(ax)
        nz = int((d[..., row] > 0).sum())
        style_axes(ax, fontsize, title=f"DoG {name} ({nz} pixels > 0)")
        style_colorbar(fig.colorbar(im, ax=ax, shrink=0.9), "response", fontsize - 1)
        ax = fig.add_subplot(grid[row, 2])
        im = ax.imshow(np.ma.masked_invalid(first[..., row]), cmap=cmap_t, vmin=0,
                       vmax=t_steps - 1, interpolation="nearest")
        no_ticks(ax)
        style_axes(ax, fontsize, title=f"{name} spikes: {counts[row]}")
        style_colorbar(fig.colorbar(im, ax=ax, shrink=0.9), "first-spike time step",
                       fontsize - 1)
    fig.suptitle(title or f"Encoding: DoG ON/OFF and latency code (T = {t_steps}; "
                          "earlier spike = stronger response, black = silent)",
                 fontsize=fontsize + 1)
    return fig
