"""Classifier views: confusion matrix, per-class accuracy, training curves and a grid of
misclassified images (paper Figs 9-14).

Input conventions: ``y_true`` and ``y_pred`` are ``(N,)`` label arrays; ``classes`` fixes the
class order (default: sorted union of the labels) and ``class_names`` the tick labels (or
``"emnist"`` for the 47 EMNIST-balanced characters, indexed by label). ``history`` is a dict of
per-epoch lists as written by :class:`spykeflow.Classifier` / Keras (``accuracy``,
``val_accuracy``, ``loss``, ``val_loss``, ``lr`` or ``learning_rate`` ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike

from .._validation import check_bool, check_in, check_int
from ._common import (
    EMNIST_COLLAPSED_GROUPS,
    FONTSIZE,
    as_array,
    axes_or_new,
    class_labels,
    class_xticks,
    latency_image,
    new_figure,
    no_ticks,
    style_axes,
    style_colorbar,
)

#: Tick labels of the classes: a sequence of names, or "emnist" for the EMNIST-balanced
#: characters.
ClassNames = Sequence[str] | str | None

__all__ = [
    "confusion_counts",
    "plot_confusion_matrix",
    "plot_per_class_accuracy",
    "plot_training_curves",
    "plot_misclassified",
]


def _labels(y_true: ArrayLike, y_pred: ArrayLike, classes: ArrayLike | None,
            class_names: ClassNames) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    yt = np.asarray(y_true)
    yp = np.asarray(y_pred)
    if yt.ndim != 1 or yp.shape != yt.shape or yt.size == 0:
        raise ValueError(
            "Expected y_true and y_pred as non-empty 1-D arrays of equal length. "
            f"Received: shapes {yt.shape} and {yp.shape}."
        )
    cls = np.unique(np.concatenate([yt, yp])) if classes is None else np.asarray(classes)
    index = {c: i for i, c in enumerate(cls.tolist())}
    if len(index) != len(cls):
        raise ValueError(f"Expected distinct classes. Received: classes={cls.tolist()}.")
    unknown = set(np.unique(np.concatenate([yt, yp])).tolist()) - set(index)
    if unknown:
        raise ValueError(
            "Expected every label in classes. Received labels not in classes: "
            f"{sorted(unknown)[:10]}."
        )
    names = class_labels(class_names, cls)
    ti = np.array([index[v] for v in yt.tolist()])
    pi = np.array([index[v] for v in yp.tolist()])
    return ti, pi, cls, names


def confusion_counts(y_true: ArrayLike, y_pred: ArrayLike,
                     classes: ArrayLike | None = None) -> np.ndarray:
    """Confusion counts ``(K, K)``: row = true class, column = predicted, in class order.

    >>> confusion_counts([0, 0, 1, 2], [0, 1, 1, 1], classes=[2, 1, 0]).tolist()
    [[0, 1, 0], [0, 1, 0], [0, 1, 1]]
    """
    ti, pi, cls, _ = _labels(y_true, y_pred, classes, None)
    return _count_pairs(ti, pi, len(cls))


def _count_pairs(ti: np.ndarray, pi: np.ndarray, k: int) -> np.ndarray:
    """``(k, k)`` counts of (true position, predicted position) pairs."""
    cm = np.zeros((k, k), int)
    np.add.at(cm, (ti, pi), 1)
    return cm


def plot_confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, *,
                          classes: ArrayLike | None = None, class_names: ClassNames = None,
                          normalize: bool = True, annotate: bool | None = None,
                          ax: Axes | None = None, fontsize: float = FONTSIZE,
                          cmap: str = "Blues", title: str | None = None) -> Figure:
    """Row-normalised confusion heat map (paper Figs 12, 13).

    Parameters
    ----------
    normalize : bool
        Divide each row by the number of images of that true class (rows sum to 1).
    annotate : bool, optional
        Write the values in the cells (default when there are at most 20 classes).

    Returns
    -------
    matplotlib.figure.Figure
        One heat-map Axes (rows = true class, columns = predicted class, in class order) with
        a colour bar; the title gives the overall accuracy.
    """
    ti, pi, cls, names = _labels(y_true, y_pred, classes, class_names)
    normalize = check_bool(normalize, "normalize")
    k = len(cls)
    cm = _count_pairs(ti, pi, k).astype(float)
    acc = float((ti == pi).mean())
    if normalize:
        rows = cm.sum(axis=1, keepdims=True)
        cm = cm / np.where(rows > 0, rows, 1)
    size = min(10.0, max(5.0, 0.2 * k + 2.5))
    fig, ax = axes_or_new(ax, (size + 1.2, size))
    im = ax.imshow(cm, cmap=cmap, vmin=0, vmax=1 if normalize else None,
                   interpolation="nearest")
    tick_fs = fontsize - 1 if k <= 26 else max(6, fontsize - 3)
    ax.set_yticks(np.arange(k), names, fontsize=tick_fs)
    style_axes(ax, fontsize, xlabel="predicted class", ylabel="true class",
               title=title or f"Confusion matrix (accuracy {100 * acc:.2f} %, {len(ti)} images)")
    ax.tick_params(labelsize=tick_fs)
    class_xticks(ax, names, tick_fs)
    if annotate is None:
        annotate = k <= 20
    if annotate:
        for (r, c), v in np.ndenumerate(cm):
            if v == 0:
                continue
            text = f"{v:.2f}" if normalize else f"{int(v)}"
            ax.text(c, r, text, ha="center", va="center", fontsize=max(6, fontsize - 3),
                    color="white" if v > 0.5 * cm.max() else "black")
    style_colorbar(fig.colorbar(im, ax=ax, shrink=0.8),
                   "fraction of the true class" if normalize else "images", fontsize)
    return fig


def plot_per_class_accuracy(y_true: ArrayLike, y_pred: ArrayLike, *,
                            classes: ArrayLike | None = None, class_names: ClassNames = None,
                            equivalent: Sequence[Sequence[Any]] | str | None = None,
                            ax: Axes | None = None, fontsize: float = FONTSIZE,
                            title: str | None = None) -> Figure:
    """Accuracy per class as bars in class order with the overall accuracy (Figs 9, 11, 14).

    ``equivalent`` (sequence of groups of labels, or ``"emnist"`` for
    ``EMNIST_COLLAPSED_GROUPS``) gives the "collapsed" variant: a prediction counts as
    correct when it lies in the same group as the label. The conditioned variant is the same
    plot of a classifier's conditioned predictions.

    Returns
    -------
    matplotlib.figure.Figure
        One bar per class (height = % of that class's images classified correctly; classes
        without images get 0) and a dashed line at the overall accuracy.
    """
    ti, pi, cls, names = _labels(y_true, y_pred, classes, class_names)
    k = len(cls)
    group = np.arange(k)                      # class position -> group id
    if equivalent is not None:
        if isinstance(equivalent, str):
            check_in(equivalent, "equivalent", ("emnist",))
            equivalent = EMNIST_COLLAPSED_GROUPS
        pos = {c: i for i, c in enumerate(cls.tolist())}
        for g in equivalent:
            members = [pos[c] for c in g if c in pos]
            if members:
                group[members] = k + min(members)
    hit = group[ti] == group[pi]
    n = np.bincount(ti, minlength=k)
    correct = np.bincount(ti[hit], minlength=k)
    acc = 100.0 * correct / np.where(n > 0, n, 1)
    overall = 100.0 * float(hit.mean())
    fig, ax = axes_or_new(ax, (min(16.0, max(6.0, 0.25 * k + 3)), 4.0))
    ax.bar(np.arange(k), acc, color="tab:blue", width=0.8)
    ax.axhline(overall, color="k", ls="--", lw=1, label=f"overall {overall:.2f} %")
    ax.set_xticks(np.arange(k), names)
    ax.set_xlim(-0.7, k - 0.3)
    ax.set_ylim(0, 109)
    tick_fs = fontsize - 1 if k <= 26 else max(6, fontsize - 3)
    style_axes(ax, fontsize, xlabel="class", ylabel="accuracy (%)",
               title=title or ("Accuracy per class" + (" (equivalent classes counted as correct)"
                                                       if equivalent is not None else "")))
    ax.tick_params(axis="x", labelsize=tick_fs)
    if k <= 20:
        for i, v in enumerate(acc):
            ax.text(i, v + 1, f"{v:.0f}", ha="center", va="bottom", fontsize=fontsize - 2)
    ax.legend(loc="lower right", fontsize=fontsize - 1, framealpha=0.9)
    return fig


_CURVE_KEYS = {
    "accuracy": [("accuracy", "train"), ("acc", "train"), ("train_accuracy", "train"),
                 ("val_accuracy", "validation"), ("val_acc", "validation"),
                 ("test_accuracy", "test"), ("test_acc", "test")],
    "loss": [("loss", "train"), ("train_loss", "train"), ("val_loss", "validation"),
             ("test_loss", "test")],
    "learning rate": [("lr", "learning rate"), ("learning_rate", "learning rate")],
}


def plot_training_curves(history: Mapping[str, Sequence[float]], *, fig: Figure | None = None,
                         fontsize: float = FONTSIZE,
                         title: str | None = "Training curves") -> Figure:
    """Accuracy, loss and learning rate against epoch from a history dict.

    Parameters
    ----------
    history : dict of str -> sequence of float
        Per-epoch values. Recognised keys: ``accuracy``/``acc``/``train_accuracy``,
        ``val_accuracy``/``val_acc``, ``test_accuracy``, ``loss``/``train_loss``, ``val_loss``,
        ``test_loss``, ``lr``/``learning_rate``. Accuracies given as fractions (all <= 1) are
        shown in %.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes per group present (accuracy, loss, learning rate), x = epoch (1-based).
    """
    if not isinstance(history, Mapping):
        raise TypeError(
            f"Expected history as a dict of per-epoch lists. Received: {type(history).__name__}."
        )
    groups = []
    for group, keys in _CURVE_KEYS.items():
        found = [(k, lab) for k, lab in keys if k in history and len(history[k])]
        if found:
            groups.append((group, found))
    if not groups:
        known = sorted(k for keys in _CURVE_KEYS.values() for k, _ in keys)
        raise ValueError(
            f"Expected at least one of the keys {known} in history. Received: {sorted(history)}."
        )
    fig = new_figure((4.3 * len(groups), 3.8), fig)
    axes = fig.subplots(1, len(groups), squeeze=False)[0]
    for ax, (group, found) in zip(axes, groups):
        values = {k: as_array(history[k], f"history[{k!r}]", ndim=1) for k, _ in found}
        percent = group == "accuracy" and all(v.max() <= 1.0 for v in values.values())
        for i, (k, lab) in enumerate(found):
            v = values[k] * (100 if percent else 1)
            epochs = np.arange(1, len(v) + 1)
            ax.plot(epochs, v, "-o" if len(v) <= 40 else "-", ms=3, color=f"C{i}", label=lab)
        if group == "learning rate":
            if all(v.min() > 0 for v in values.values()):
                ax.set_yscale("log")
            ylabel = "learning rate"
        elif group == "accuracy":
            ylabel = "accuracy (%)" if percent else "accuracy"
        else:
            ylabel = "loss"
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        style_axes(ax, fontsize, xlabel="epoch", ylabel=ylabel, title=group.capitalize())
        ax.grid(alpha=0.3)
        if len(found) > 1 or group != "learning rate":
            ax.legend(fontsize=fontsize - 1)
    if title:
        fig.suptitle(title, fontsize=fontsize + 1)
    return fig


def plot_misclassified(images: ArrayLike, y_true: ArrayLike, y_pred: ArrayLike, *,
                       classes: ArrayLike | None = None, class_names: ClassNames = None,
                       max_images: int = 60, ncols: int = 10,
                       image_ids: ArrayLike | None = None, fig: Figure | None = None,
                       fontsize: float = FONTSIZE) -> Figure:
    """Grid of misclassified images titled "P: prediction  L: label" (paper Fig. 10).

    Parameters
    ----------
    images : array ``(N, H, W)``, ``(N, H, W, 1)`` or input spikes ``(N, T, H, W, C)``
        Grey images, or encoded spikes rebuilt into a picture (first-spike latency,
        ON minus OFF for two channels).
    max_images : int
        At most this many misclassified images, in dataset order.
    image_ids : array ``(N,)``, optional
        Identifier of each image (e.g. its index in the dataset), shown under the image.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes per misclassified image shown (or a single Axes saying none were found).
    """
    ti, pi, cls, names = _labels(y_true, y_pred, classes, class_names)
    imgs = np.asarray(images)
    if imgs.shape[0] != len(ti):
        raise ValueError(
            f"Expected one image per label ({len(ti)}). Received: images.shape={imgs.shape}."
        )
    max_images = check_int(max_images, "max_images", minimum=1)
    wrong = np.flatnonzero(ti != pi)[:max_images]
    if imgs.ndim == 5:
        diverging = imgs.shape[-1] == 2
        pics = []
        for i in wrong:
            lat = latency_image(imgs[i])
            pics.append(lat[..., 0] - lat[..., 1] if diverging else lat[..., 0])
    elif imgs.ndim in (3, 4):
        if imgs.ndim == 4 and imgs.shape[-1] != 1:
            raise ValueError(f"Expected grey images (N, H, W[, 1]). Received: shape={imgs.shape}.")
        pics = [as_array(imgs[i], "images").reshape(imgs.shape[1:3]) for i in wrong]
        diverging = False
    else:
        raise ValueError(
            "Expected images (N, H, W), (N, H, W, 1) or spikes (N, T, H, W, C). "
            f"Received: shape={imgs.shape}."
        )
    if len(wrong) == 0:
        fig, ax = axes_or_new(None, (4, 2)) if fig is None else (fig, fig.add_subplot())
        ax.text(0.5, 0.5, "no misclassified images", ha="center", va="center",
                fontsize=fontsize)
        ax.set_axis_off()
        return fig
    ncols = min(check_int(ncols, "ncols", minimum=1), len(wrong))
    nrows = int(np.ceil(len(wrong) / ncols))
    fig = new_figure((1.25 * ncols, 1.45 * nrows + 0.6), fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    ids = None if image_ids is None else np.asarray(image_ids)
    if ids is not None and ids.shape != (len(ti),):
        raise ValueError(
            f"Expected one image_ids entry per image, shape ({len(ti)},). "
            f"Received: shape={ids.shape}."
        )
    for k, ax in enumerate(axes.flat):
        if k >= len(wrong):
            ax.set_axis_off()
            continue
        i = wrong[k]
        if diverging:
            ax.imshow(pics[k], cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
        else:
            ax.imshow(pics[k], cmap="gray_r", interpolation="nearest")
        no_ticks(ax)
        ax.set_title(f"P: {names[pi[i]]}  L: {names[ti[i]]}", fontsize=fontsize - 1, pad=2)
        if ids is not None:
            ax.set_xlabel(f"#{ids[i]}", fontsize=fontsize - 3, labelpad=1)
    n_wrong = int((ti != pi).sum())
    fig.suptitle(f"Misclassified images: {len(wrong)} of {n_wrong} shown "
                 f"(P = predicted, L = label)", fontsize=fontsize + 1)
    return fig
