"""Weight-evolution animations: one frame per weight snapshot.

Functions return a :class:`matplotlib.animation.FuncAnimation` and never save or show it;
the caller chooses the file. Saving, for reference (``main/main.py`` does this)::

    anim = weight_evolution_animation(snapshots, images_seen)
    anim.save("conv1.gif", writer=matplotlib.animation.PillowWriter(fps=5))   # always available
    if matplotlib.animation.writers.is_available("ffmpeg"):                   # MP4 needs ffmpeg
        anim.save("conv1.mp4", writer=matplotlib.animation.FFMpegWriter(fps=5))

In a notebook, ``IPython.display.HTML(animation_to_html(anim))`` shows it inline (JavaScript
player, no ffmpeg needed). :func:`writer_for` picks the writer from a file suffix.

Input convention: ``snapshots`` ``(S, kh, kw, C_in, C_out)`` (or a list of S weight arrays) with
``images_seen`` ``(S,)``; a deeper layer (e.g. Conv2) is drawn reconstructed through the final
weights of the layers below, given as ``lower_weights=[W1, ...]`` (see
:func:`spykeflow.plotting.reconstruct_features`). This module imports only numpy, matplotlib
and :mod:`spykeflow.plotting`.
"""

from __future__ import annotations

import os
import pathlib

import numpy as np
from matplotlib import animation as mpl_animation
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from ._validation import check_int
from .plotting._common import (
    FONTSIZE,
    check_snapshots,
    grid_shape,
    new_figure,
    onoff_legend_handles,
    select_indices,
)
from .plotting.features import LayerWeights, PoolArg, draw_mosaic, kernel_mosaic, snapshot_rgb

__all__ = ["weight_evolution_frames", "weight_evolution_animation", "animation_to_html",
           "writer_for"]


def weight_evolution_frames(
    snapshots: ArrayLike, images_seen: ArrayLike, *,
    lower_weights: LayerWeights | None = None, maps: ArrayLike | None = None,
    ncols: int | None = None, pool_size: PoolArg = 2, pool_stride: PoolArg | None = None,
    threshold: float = 0.3, kernel_rgb: str = "off_red", normalize: str | None = "auto",
) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """RGB mosaic of every snapshot, ``(S, H, W, 3)`` in [0, 1], plus the grid shape.

    Each frame tiles the maps' kernels (reconstructed through ``lower_weights`` for a deeper
    layer) row by row, ``ncols`` per row, separated by 1-pixel white lines.

    Returns
    -------
    frames : ndarray ``(S, H, W, 3)``
    maps : ndarray of the map indices shown, in tile order
    (nrows, ncols) : the tile grid

    >>> snaps = np.random.default_rng(0).uniform(size=(3, 5, 5, 2, 4))
    >>> frames, maps, grid = weight_evolution_frames(snaps, [0, 200, 400], ncols=2)
    >>> frames.shape, grid
    ((3, 11, 11, 3), (2, 2))
    """
    snaps, _ = check_snapshots(snapshots, images_seen)
    rgb = snapshot_rgb(snaps, lower_weights, pool_size, pool_stride, threshold, kernel_rgb,
                       normalize)  # (S, M, h, w, 3)
    idx = select_indices(maps, rgb.shape[1], "maps")
    rgb = rgb[:, idx]
    nrows, ncols = grid_shape(len(idx), ncols, aspect=1.2)
    frames = np.stack([kernel_mosaic(r, ncols) for r in rgb])
    return frames, idx, (nrows, ncols)


def weight_evolution_animation(
    snapshots: ArrayLike, images_seen: ArrayLike, *,
    lower_weights: LayerWeights | None = None, maps: ArrayLike | None = None,
    ncols: int | None = None, interval: int = 300, pool_size: PoolArg = 2,
    pool_stride: PoolArg | None = None, threshold: float = 0.3, kernel_rgb: str = "off_red",
    normalize: str | None = "auto", layer_name: str = "Conv1", fig: Figure | None = None,
    fontsize: float = FONTSIZE, figsize: tuple[float, float] | None = None,
) -> mpl_animation.FuncAnimation:
    """Animation of a layer's kernels over training, one frame per snapshot.

    Parameters
    ----------
    snapshots : array ``(S, kh, kw, C_in, C_out)`` or list of S arrays
    images_seen : array ``(S,)``
        Images seen at each snapshot (shown in each frame's title).
    lower_weights : list of arrays, optional
        Final weights of the layers below, for a deeper layer (frames are reconstructions).
    maps : sequence of int, optional
        Maps to show (default all).
    ncols : int, optional
        Kernels per row of a frame.
    interval : int
        Milliseconds between frames.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        ``S`` frames; ``anim.frame_data`` holds the precomputed ``(S, H, W, 3)`` frames and
        ``anim.images_seen`` the labels.
    """
    interval = check_int(interval, "interval", minimum=1)
    snaps, seen = check_snapshots(snapshots, images_seen)
    frames, idx, (nrows, ncols) = weight_evolution_frames(
        snaps, seen, lower_weights=lower_weights, maps=maps, ncols=ncols,
        pool_size=pool_size, pool_stride=pool_stride, threshold=threshold,
        kernel_rgb=kernel_rgb, normalize=normalize)
    h_px, w_px = frames.shape[1:3]
    if figsize is None:
        width = min(12.0, max(4.5, 0.55 * ncols + 1.5))
        figsize = (width, min(12.0, (width - 1.0) * h_px / w_px + 1.6))
    fig = new_figure(figsize, fig)
    ax = fig.add_subplot()
    kernel_hw = ((h_px + 1) // nrows - 1, (w_px + 1) // ncols - 1)
    image = draw_mosaic(ax, frames[0], kernel_hw, ncols, idx, fontsize)
    recon = " (reconstructed in input space)" if lower_weights is not None else ""
    title = ax.set_title("", fontsize=fontsize + 1)
    if lower_weights is not None or snaps.shape[3] == 2:
        fig.legend(handles=onoff_legend_handles(kernel_rgb), loc="outside lower center",
                   ncols=3, fontsize=fontsize - 2, frameon=False)

    def update(k):
        image.set_data(frames[k])
        title.set_text(f"{layer_name} kernels{recon}\nafter {int(seen[k])} images "
                       f"(snapshot {k + 1}/{len(frames)})")
        return image, title

    update(0)
    anim = mpl_animation.FuncAnimation(fig, update, frames=range(len(frames)),
                                       interval=interval, blit=False, repeat=True)
    anim.frame_data = frames  # type: ignore[attr-defined]
    anim.images_seen = seen  # type: ignore[attr-defined]
    return anim


def animation_to_html(anim: mpl_animation.Animation, default_mode: str = "loop") -> str:
    """HTML with a JavaScript player for a notebook (``IPython.display.HTML(...)``).

    Needs neither ffmpeg nor a display; frames are embedded as PNG.
    """
    if not isinstance(anim, mpl_animation.Animation):
        raise TypeError(
            f"Expected a matplotlib.animation.Animation. Received: {type(anim).__name__}."
        )
    return anim.to_jshtml(default_mode=default_mode)


def writer_for(path: str | os.PathLike, fps: int = 5) -> mpl_animation.AbstractMovieWriter:
    """The matplotlib writer for a file suffix: ``.gif`` -> PillowWriter, ``.mp4`` ->
    FFMpegWriter (only when ``matplotlib.animation.writers.is_available("ffmpeg")``),
    ``.html`` -> HTMLWriter. Does not write anything.

    >>> type(writer_for("evolution.gif")).__name__
    'PillowWriter'
    """
    suffix = pathlib.Path(path).suffix.lower()
    fps = check_int(fps, "fps", minimum=1)
    if suffix == ".gif":
        return mpl_animation.PillowWriter(fps=fps)
    if suffix == ".html":
        return mpl_animation.HTMLWriter(fps=fps)
    if suffix == ".mp4":
        if not mpl_animation.writers.is_available("ffmpeg"):
            raise ValueError(
                f"Expected ffmpeg on PATH to write {path!s}. Received: no ffmpeg found by "
                "matplotlib. Install ffmpeg or save as .gif (Pillow) instead."
            )
        return mpl_animation.FFMpegWriter(fps=fps)
    raise ValueError(
        f"Expected a path ending in .gif, .mp4 or .html. Received: path={str(path)!r}."
    )
