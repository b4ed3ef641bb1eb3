"""Synthetic MNIST sequences of Samadzadeh et al. (their section 3.2 and Table 1): five
spatio-temporal tasks.

Every sample is a clip of ``T`` frames (default 10) made from one MNIST digit:

=====  =========================================================  =======
seq    what happens over the clip                                 classes
=====  =========================================================  =======
1      zoom in 10 % -> 100 % (label d) or out 100 % -> 10 % (d+10)  20
2      rotation 0 -> 324 deg in 36 deg steps, clockwise (d) or      20
       counter-clockwise (d+10)
3      zoom in 50 % -> 100 % (d) or out 100 % -> 50 % (d+10)        20
4      a 14x14 black square occludes the digit at a random place    10
       in every frame (label d)
5      rotation by a random total angle U(0, 360) deg spread evenly 20
       over the clip, clockwise (d) or counter-clockwise (d+10)
=====  =========================================================  =======

Toolkit choices the paper leaves open (documented in docs/design_choices.md): zoom factors
are evenly spaced and the smallest zoom-in frame of sequence 1 is 1/T (a 0 % frame would be
blank), zoom and rotation are about the image centre with bilinear interpolation, the occluder
position is uniform over all placements inside the 28x28 frame, and the direction of each
sample (in/out, clockwise/counter-clockwise) is drawn with probability 1/2 from the seed.

>>> import numpy as np
>>> img = np.zeros((1, 28, 28), np.uint8); img[0, 10:18, 12:16] = 255
>>> x, y = make_sequences(img, np.array([3]), seq=2, seed=0)
>>> x.shape, x.dtype, int(y[0]) in (3, 13)
((1, 10, 28, 28), dtype('uint8'), True)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage

from .._validation import check_int, is_int
from ._common import progress_bar

__all__ = ["SEQUENCES", "make_sequences", "n_classes", "draw_sequences", "render_sequences",
           "sequence_targets"]

#: Number of classes of each sequence type.
SEQUENCES = {1: 20, 2: 20, 3: 20, 4: 10, 5: 20}


def n_classes(seq: int) -> int:
    """Number of classes of sequence ``seq`` (1..5).

    >>> n_classes(4)
    10
    """
    return SEQUENCES[check_seq(seq)]


def check_seq(seq: int) -> int:
    """``seq`` as an int if it names one of the five sequences (bools are refused)."""
    if not (is_int(seq) and seq in SEQUENCES):
        raise ValueError(f"Expected seq in {sorted(SEQUENCES)}. Received: seq={seq!r}.")
    return int(seq)


def _affine(img: np.ndarray, scale: float = 1.0, angle_deg: float = 0.0) -> np.ndarray:
    """Zoom by ``scale`` and rotate by ``angle_deg`` (counter-clockwise on screen) about the
    centre, keeping the frame size; bilinear, zeros outside."""
    theta = np.deg2rad(angle_deg)
    c, s = np.cos(theta), np.sin(theta)
    # Rows grow downwards, so a counter-clockwise turn on screen maps (r, c) by [[c, -s], [s, c]];
    # affine_transform needs the inverse map (output -> input coordinates), including the zoom.
    inv = np.array([[c, s], [-s, c]]) / scale
    centre = (np.array(img.shape) - 1) / 2.0
    offset = centre - inv @ centre
    out = ndimage.affine_transform(
        img.astype(np.float32), inv, offset=offset, order=1, mode="constant", cval=0.0
    )
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


#: Side of the square occluder of sequence 4 (pixels).
_OCCLUDER = 14


def _clip(img: np.ndarray, seq: int, t: int, forward: bool, draw: np.ndarray) -> np.ndarray:
    """The T frames of one sample; ``forward`` is zoom-in / clockwise, ``draw`` the sample's
    random numbers (see :func:`draw_sequences`)."""
    if seq in (1, 3):
        lo = 1.0 / t if seq == 1 else 0.5
        scales = np.linspace(lo, 1.0, t)
        if not forward:
            scales = scales[::-1]
        return np.stack([_affine(img, scale=s) for s in scales])
    if seq in (2, 5):
        total = 360.0 * (t - 1) / t if seq == 2 else float(draw[0])
        angles = np.linspace(0.0, total, t)
        sign = -1.0 if forward else 1.0  # clockwise = negative (counter-clockwise positive)
        return np.stack([_affine(img, angle_deg=sign * a) for a in angles])
    frames = np.repeat(img[None], t, axis=0).copy()
    rows, cols = draw[:t].astype(np.int64), draw[t:].astype(np.int64)
    for k in range(t):
        frames[k, rows[k]: rows[k] + _OCCLUDER, cols[k]: cols[k] + _OCCLUDER] = 0
    return frames


def draw_sequences(n: int, seq: int, time_steps: int, seed: int,
                   frame_shape: tuple[int, ...] = (28, 28)) -> tuple[np.ndarray, np.ndarray]:
    """The random numbers of ``n`` clips, without rendering them: ``(forward, draws)``.

    ``forward`` (bool, (n,)) is the direction of each clip (zoom-in / clockwise); ``draws``
    (float64, (n, k)) holds each clip's own draws: the total angle for sequence 5, the
    occluder rows then columns of its ``time_steps`` frames for sequence 4, nothing (k = 0)
    otherwise. They come from one ``numpy.random.default_rng(seed)`` in clip order, so any
    subset of clips can be rendered on its own with :func:`render_sequences`.
    """
    rng = np.random.default_rng(seed)
    forward = rng.random(n) < 0.5
    width = {4: 2 * time_steps, 5: 1}.get(seq, 0)
    draws = np.zeros((n, width))
    for i in range(n if width else 0):
        if seq == 5:
            draws[i, 0] = rng.uniform(0.0, 360.0)
        else:
            draws[i, :time_steps] = rng.integers(0, frame_shape[0] - _OCCLUDER + 1,
                                                 size=time_steps)
            draws[i, time_steps:] = rng.integers(0, frame_shape[1] - _OCCLUDER + 1,
                                                 size=time_steps)
    return forward, draws


def render_sequences(images: np.ndarray, seq: int, time_steps: int, forward: np.ndarray,
                     draws: np.ndarray, progress: bool | None = None) -> np.ndarray:
    """uint8 clips ``(N, T, H, W)`` of ``images`` with their directions and draws (the rows
    of :func:`draw_sequences` that belong to these images)."""
    frames = np.empty((len(images), time_steps, *images.shape[1:]), np.uint8)
    for i in progress_bar(range(len(images)), progress, desc=f"sequence {seq}", unit="clip"):
        frames[i] = _clip(images[i], seq, time_steps, bool(forward[i]), draws[i])
    return frames


def sequence_targets(labels: np.ndarray, seq: int, forward: np.ndarray) -> np.ndarray:
    """int64 targets: ``labels`` for sequence 4, ``labels + 10 * (not forward)`` otherwise."""
    targets = np.asarray(labels).astype(np.int64)
    if seq != 4:
        targets = targets + 10 * (~np.asarray(forward)).astype(np.int64)
    return targets


def make_sequences(images: ArrayLike, labels: ArrayLike, seq: int, time_steps: int = 10,
                   seed: int = 0,
                   progress: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Build sequence ``seq`` (1..5) from grey images.

    Parameters
    ----------
    images : array (N, H, W), uint8 0..255 (MNIST from ``spykeflow.datasets.load("mnist")``)
    labels : array (N,), int digit labels 0..9
    seq : int, 1..5 (see the module table)
    time_steps : int, frames per clip T >= 2 (the paper uses 10)
    seed : int >= 0, seeds the directions, occluder positions and random angles
    progress : bool, optional
        Show a progress bar (default ``None``: only on an interactive terminal).

    Returns
    -------
    frames : uint8 array (N, T, H, W)
    targets : int64 array (N,); ``labels`` for seq 4, ``labels + 10 * direction`` otherwise
    """
    seq = check_seq(seq)
    time_steps = check_int(time_steps, "time_steps", minimum=2)
    seed = check_int(seed, "seed", minimum=0)
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim != 3:
        raise ValueError(f"Expected images of shape (N, H, W). Received: shape={images.shape}.")
    if len(images) != len(labels):
        raise ValueError(
            f"Expected one label per image. Received: {len(images)} images, {len(labels)} labels."
        )
    if images.size and (images.min() < 0 or images.max() > 255):
        raise ValueError("Expected grey values in 0..255. Received values outside that range.")
    forward, draws = draw_sequences(len(images), seq, time_steps, seed, images.shape[1:])
    frames = render_sequences(images, seq, time_steps, forward, draws, progress)
    return frames, sequence_targets(labels, seq, forward)
