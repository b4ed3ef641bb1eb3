"""Classification metrics as data: accuracy, per-class accuracy, confusion matrix, and the EMNIST
"conditioned" and "collapsed" evaluations of Vaila et al.
(``docs/original/readout.md#conditioned-and-collapsed-evaluation``).

Labels are integer class indices ``0..K-1`` (use ``Classifier.classes_`` to map back).
Plots are made elsewhere from these arrays.

* :func:`conditioned_accuracy` -- the arg-max of the scores restricted to the group of the
  *true* label (EMNIST Balanced: digits 0-9, upper case 10-35, lower case 36-46). Nothing is
  retrained; it measures how often the classifier is right when told which group it is in.
* :func:`collapsed_accuracy` -- a prediction also counts as correct when it lies in the same
  confusable set as the label: {f,F}, {0,O}, {q,9}, {1,I,L}, {S,5}, {2,Z}.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "EMNIST_BALANCED_CHARS",
    "EMNIST_COLLAPSE_SETS",
    "accuracy",
    "per_class_accuracy",
    "confusion_matrix",
    "emnist_chars",
    "emnist_groups",
    "conditioned_predictions",
    "conditioned_accuracy",
    "collapse_map",
    "collapsed_accuracy",
]

#: Characters of the 47 EMNIST Balanced classes (the official mapping file's order).
EMNIST_BALANCED_CHARS = (
    "0123456789" "ABCDEFGHIJKLMNOPQRSTUVWXYZ" "abdefghnqrt"
)
#: Sets of characters the paper found confusable ("collapsed" evaluation).
EMNIST_COLLAPSE_SETS = ("fF", "0O", "q9", "1IL", "S5", "2Z")


def _labels(y, name):
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            f"Expected {name} as a 1-D array of integer class indices. "
            f"Received: shape={y.shape}, dtype={y.dtype}."
        )
    return y


def _pair(y_true, y_pred):
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"Expected y_true and y_pred of equal length. Received: {len(y_true)} and "
            f"{len(y_pred)}."
        )
    if len(y_true) == 0:
        raise ValueError("Expected at least one sample. Received: 0.")
    return y_true, y_pred


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Share of samples with ``y_pred == y_true``.

    >>> accuracy([0, 1, 2, 2], [0, 1, 1, 2])
    0.75
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` = number of samples of true class ``i`` predicted as ``j``.

    >>> confusion_matrix([0, 1, 1], [0, 0, 1]).tolist()
    [[1, 0], [1, 1]]
    """
    y_true, y_pred = _pair(y_true, y_pred)
    k = int(max(y_true.max(), y_pred.max()) + 1) if n_classes is None else int(n_classes)
    if y_true.min() < 0 or y_pred.min() < 0 or max(y_true.max(), y_pred.max()) >= k:
        raise ValueError(f"Expected class indices in [0, {k}). Received values outside.")
    cm = np.zeros((k, k), np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def per_class_accuracy(y_true: Any, y_pred: Any, n_classes: int | None = None) -> np.ndarray:
    """Recall of each class ``(K,)``; ``nan`` for classes absent from ``y_true``.

    >>> per_class_accuracy([0, 0, 1], [0, 1, 1]).tolist()
    [0.5, 1.0]
    """
    cm = confusion_matrix(y_true, y_pred, n_classes)
    support = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(cm) / np.maximum(support, 1), np.nan)


def emnist_chars(mapping: Sequence[str] | None = None) -> list[str]:
    """Character of each EMNIST Balanced class.

    Parameters
    ----------
    mapping : sequence of str or None
        E.g. :func:`spykeflow.datasets.emnist_mapping` (reads the official mapping file);
        ``None`` uses :data:`EMNIST_BALANCED_CHARS`.
    """
    chars = list(EMNIST_BALANCED_CHARS if mapping is None else mapping)
    if not all(isinstance(c, str) and len(c) == 1 for c in chars):
        raise ValueError("Expected mapping to be a sequence of single characters.")
    return chars


def emnist_groups(mapping: Sequence[str] | None = None) -> np.ndarray:
    """Group of each class: 0 digit, 1 upper-case letter, 2 lower-case letter.

    >>> g = emnist_groups(); (g[:10].tolist() == [0] * 10, int(g[10]), int(g[36]), len(g))
    (True, 1, 2, 47)
    """
    chars = emnist_chars(mapping)
    return np.array([0 if c.isdigit() else 1 if c.isupper() else 2 for c in chars], np.int64)


def conditioned_predictions(scores: Any, y_true: Any, groups: Any) -> np.ndarray:
    """Arg-max of ``scores`` over the classes in the same group as each sample's true label.

    Parameters
    ----------
    scores : array ``(N, K)``
        Logits or probabilities (larger = more likely).
    y_true : array ``(N,)`` int
    groups : array ``(K,)`` int
        Group id of each class (e.g. :func:`emnist_groups`).

    >>> s = np.array([[0.9, 0.1, 0.5], [0.2, 0.7, 0.1]])
    >>> conditioned_predictions(s, [2, 0], groups=[0, 1, 1]).tolist()
    [2, 0]
    """
    scores = np.asarray(scores, np.float64)
    y_true = _labels(np.asarray(y_true), "y_true")
    groups = np.asarray(groups)
    if scores.ndim != 2 or scores.shape != (len(y_true), len(groups)):
        raise ValueError(
            "Expected scores (N, K) with N = len(y_true) and K = len(groups). Received: "
            f"scores.shape={scores.shape}, len(y_true)={len(y_true)}, len(groups)={len(groups)}."
        )
    allowed = groups[None, :] == groups[y_true][:, None]
    return np.argmax(np.where(allowed, scores, -np.inf), axis=1)


def conditioned_accuracy(scores: Any, y_true: Any, groups: Any) -> float:
    """Accuracy of :func:`conditioned_predictions` (the paper's "conditioned" EMNIST number)."""
    return accuracy(y_true, conditioned_predictions(scores, y_true, groups))


def collapse_map(mapping: Sequence[str] | None = None,
                 sets: Sequence[str] = EMNIST_COLLAPSE_SETS) -> np.ndarray:
    """Representative class of each class after merging the confusable ``sets`` (``(K,)``).

    Characters of a set absent from the mapping (e.g. ``l`` in EMNIST Balanced) are ignored.

    >>> m = collapse_map(); chars = emnist_chars()
    >>> bool(m[chars.index("O")] == m[chars.index("0")]), bool(m[chars.index("A")] == 10)
    (True, True)
    """
    chars = emnist_chars(mapping)
    rep = np.arange(len(chars))
    index = {c: i for i, c in enumerate(chars)}
    for group in sets:
        members = [index[c] for c in group if c in index]
        if members:
            rep[members] = min(members)
    return rep


def collapsed_accuracy(y_true: Any, y_pred: Any, mapping: Sequence[str] | None = None,
                       sets: Sequence[str] = EMNIST_COLLAPSE_SETS) -> float:
    """Accuracy where predictions inside the label's confusable set count as correct.

    >>> chars = emnist_chars()
    >>> collapsed_accuracy([chars.index("0"), 3], [chars.index("O"), 4])
    0.5
    """
    y_true, y_pred = _pair(y_true, y_pred)
    rep = collapse_map(mapping, sets)
    return float(np.mean(rep[y_true] == rep[y_pred]))
