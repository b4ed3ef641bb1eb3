"""InputLayer: the image encoder, grey images -> spike trains ``(N, T, H, W, 2)``.

The SpykeFlow input encoding (Vaila et al., arXiv 2002.11843, section II.A); each step below
has its section in docs/original/encoding.md, saying what the original did and how SpykeFlow
differs. Every behaviour of the original code and of the paper is an option; the defaults
reproduce the original's effective (published) setting:

========================  ==============================  ====================================
step                      default (original, published)   alternative
========================  ==============================  ====================================
resize                    28 -> 27, area interpolation    ``resize_to=None`` (or another size)
DoG kernel                ``"original"``: 7x7, sigmas     ``dog_kernel="paper"`` (eq. 1,
                          (1, 2), 1-D normalisation,      2-D normalisation; max response on a
                          zero mean, max 1; OFF = -ON     0..255 image ~121 vs ~880: rescale
                                                          the thresholds)
filter geometry           same size, reflect-101 border   ``dog_padding="valid"`` (22x22 on
                                                          28x28, no border)
border                    2-pixel frame zeroed            ``border_size=0``
thresholds                ON 50, OFF 50, ``>=``           ``strict_threshold=True`` (``>``)
rounding                  5 decimals                      ``decimals=None``
local normalisation       17x17 (divide by local mean)    ``local_norm_window=None``
latency code              ``"rank"``: equal-count bins    ``latency="inverse"`` (1/x,
                                                          toolkit-defined quantisation)
time steps                10 bins + 2 empty = 12          ``n_bins``, ``n_empty_bins``
========================  ==============================  ====================================

:data:`PAPER_PARAMS` collects the paper's literal setting (unpublished numbers; no result of
the paper was produced with it). Event recordings and real-valued series have their own
encoders, :class:`spykeflow.encoders.EventEncoder` and :class:`spykeflow.encoders.DeltaEncoder`.

Spike layout (see :mod:`spykeflow.conventions`): ``(N, T, H, W, C)`` bool, channel 0 = ON,
1 = OFF, time step 0 first; every input neuron spikes at most once per sample. The compact
form (:meth:`InputLayer.transform_compact`) stores the first-spike step as ``int8``
``(N, H, W, C)``, -1 = no spike, 12x smaller than the dense form.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

from spykeflow import conventions
from spykeflow._lazy import is_dask_array, map_samples
from spykeflow._parallel import check_n_jobs, effective_n_jobs
from spykeflow._validation import check_bool, check_in, check_int
from spykeflow.encoders import StatelessEncoder
from spykeflow.functional import dog as dog_fn
from spykeflow.functional import latency as latency_fn
from spykeflow.functional.dog import DoGParams
from spykeflow.functional.resize import resize_area

__all__ = ["InputLayer", "PAPER_PARAMS"]

logger = logging.getLogger(__name__)

#: The paper's literal encoding (Vaila et al. section II.A): eq. (1) kernels, valid 7x7
#: filtering of the 28x28 image, ``Gamma > 50``, ``tau = 1/Gamma`` (quantised by the toolkit's
#: rule), no local normalisation, no empty bins. ``InputLayer(**PAPER_PARAMS)``.
#: See docs/original/encoding.md#paper-versus-original.
PAPER_PARAMS: dict[str, Any] = dict(
    resize_to=None,
    dog_kernel="paper",
    dog_padding="valid",
    border_size=0,
    strict_threshold=True,
    local_norm_window=None,
    latency="inverse",
    n_empty_bins=0,
)

#: The InputLayer parameters that make up its :class:`DoGParams` (same names).
_DOG_FIELDS = tuple(f.name for f in dataclasses.fields(DoGParams) if f.name != "local_norm_eps")


class InputLayer(StatelessEncoder):
    """DoG ON/OFF filtering and latency coding of grey images.

    A stateless scikit-learn transformer: ``fit`` only validates and returns ``self``, so it
    can head a ``Pipeline``. The batch is processed ``batch_size`` images at a time, all
    images of a batch at once (no per-image Python loop).

    Parameters
    ----------
    resize_to, dog_kernel, dog_size, dog_sigmas, dog_padding, border_size, on_threshold, \
    off_threshold, strict_threshold, decimals, local_norm_window
        The DoG stage, documented once in :class:`~spykeflow.functional.dog.DoGParams` (same
        names; defaults 27, "original", 7, (1.0, 2.0), "same", 2, 50.0, 50.0, False, 5, 17):
        area resize, DoG kernel and filter geometry, zeroed frame, response thresholds,
        rounding, local normalisation.
    latency : {"rank", "inverse"}, default="rank"
        ``"rank"``: per map, the ``n`` spiking pixels sorted by response (ties by ascending
        flat index) fill ``n_bins`` equal-count bins, rank ``r`` -> bin
        ``(n_bins r - 1) div n``. ``"inverse"``: ``tau = 1/x`` quantised linearly between the
        map's earliest and latest spike (toolkit-defined; see
        :mod:`spykeflow.functional.latency`).
    n_bins : int, default=10
        Time bins that receive spikes.
    n_empty_bins : int, default=2
        Always-empty bins appended after them; ``T = n_bins + n_empty_bins``.
    batch_size : int, default=128
        Images encoded together. ~100 keeps the working set in cache; memory grows linearly.
    n_jobs : int or None, default=None
        Threads encoding batches in parallel, with scikit-learn's meaning: None is 1 (unless
        inside a ``joblib.parallel_config(n_jobs=...)`` block), -1 all CPUs, -2 all but one.
        Each thread also writes its batch's rows of the result
        (the dense expansion of :meth:`transform` included), so nothing runs serially after
        the batches. The encoder limits BLAS to one thread while it runs
        (``threadpoolctl``), for the whole process.
    progress : bool, default=False
        Show a tqdm progress bar over batches.

    Attributes
    ----------
    time_steps : int
        ``T = n_bins + n_empty_bins`` (a property of the parameters, available before fit).

    Examples
    --------
    >>> import numpy as np
    >>> from spykeflow.input_layer import InputLayer
    >>> x = np.zeros((2, 28, 28), np.uint8); x[:, 8:20, 12:16] = 255
    >>> layer = InputLayer().fit(x)
    >>> s = layer.transform(x)
    >>> s.shape, s.dtype, layer.time_steps
    ((2, 12, 27, 27, 2), dtype('bool'), 12)
    >>> int(s.sum(axis=1).max())   # at most one spike per input neuron
    1
    >>> bool(s[:, 10:].any())      # the two appended bins stay empty
    False
    >>> c = layer.transform_compact(x)
    >>> c.shape, c.dtype, bool((layer.expand(c) == s).all())
    ((2, 27, 27, 2), dtype('int8'), True)
    >>> layer.dog_params().on_threshold
    50.0
    """

    def __init__(
        self,
        resize_to: int | tuple[int, int] | None = 27,
        dog_kernel: str = "original",
        dog_size: int = 7,
        dog_sigmas: tuple[float, float] = (1.0, 2.0),
        dog_padding: str = "same",
        border_size: int = 2,
        on_threshold: float = 50.0,
        off_threshold: float = 50.0,
        strict_threshold: bool = False,
        decimals: int | None = 5,
        local_norm_window: int | None = 17,
        latency: str = "rank",
        n_bins: int = 10,
        n_empty_bins: int = 2,
        batch_size: int = 128,
        n_jobs: int | None = None,
        progress: bool = False,
    ) -> None:
        self.resize_to = resize_to
        self.dog_kernel = dog_kernel
        self.dog_size = dog_size
        self.dog_sigmas = dog_sigmas
        self.dog_padding = dog_padding
        self.border_size = border_size
        self.on_threshold = on_threshold
        self.off_threshold = off_threshold
        self.strict_threshold = strict_threshold
        self.decimals = decimals
        self.local_norm_window = local_norm_window
        self.latency = latency
        self.n_bins = n_bins
        self.n_empty_bins = n_empty_bins
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.progress = progress

    # ----------------------------------------------------------------------------------------
    # scikit-learn contract
    # ----------------------------------------------------------------------------------------

    def _check_input(self, X: Any, params: DoGParams) -> None:
        self._check_images(X, params)

    @property
    def time_steps(self) -> int:
        """Number of time steps ``T = n_bins + n_empty_bins`` of :meth:`transform`."""
        return int(self.n_bins) + int(self.n_empty_bins)

    def dog_params(self) -> DoGParams:
        """The validated :class:`~spykeflow.functional.dog.DoGParams` of this layer."""
        return DoGParams(**{name: getattr(self, name) for name in _DOG_FIELDS})

    # ----------------------------------------------------------------------------------------
    # Encoding
    # ----------------------------------------------------------------------------------------

    def transform(self, X: Any) -> np.ndarray:
        """Encode grey images as spike trains.

        Parameters
        ----------
        X : array-like, shape (N, H, W)
            Grey images, integer (e.g. uint8) or float, values in 0..255 (scale [0, 1] images
            by 255 first). Images of different sizes (a list or 1-D object array of 2-D
            arrays, e.g. Caltech) are accepted when ``resize_to`` is set: each is area-resized
            on its own, then the batch is encoded together.

        Returns
        -------
        numpy.ndarray, shape (N, T, H', W', 2), bool
            ``T = n_bins + n_empty_bins``; ``(H', W')`` is ``resize_to`` (``"same"``) or that
            minus ``dog_size - 1`` (``"valid"``). Channel 0 = ON, 1 = OFF. At most one spike
            per input neuron. Memory: ``N * T * H' * W' * 2`` bytes (17.5 kB per 27x27 image);
            use :meth:`transform_compact` for large datasets. A ``dask.array.Array`` of
            images gives a lazy Dask array, encoded block by block along N
            (:mod:`spykeflow.dask`).
        """
        if is_dask_array(X):
            return map_samples(self, "transform", X)
        return self._encode(X, dense=True)

    def transform_compact(self, X: Any) -> np.ndarray:
        """Encode grey images to first-spike times, ``(N, H', W', 2)`` ``int8``, -1 = no spike.

        Equals ``conventions.to_first_spike(self.transform(X))`` without building the dense
        tensor; :meth:`expand` (or :func:`spykeflow.conventions.from_first_spike`) converts back.
        A ``dask.array.Array`` of images gives a lazy Dask array (:mod:`spykeflow.dask`).
        """
        if is_dask_array(X):
            return map_samples(self, "transform_compact", X)
        self._validate_params()
        if self.time_steps > np.iinfo(np.int8).max:
            raise ValueError(
                "The compact int8 form holds at most 127 time steps. Received: "
                f"n_bins + n_empty_bins = {self.time_steps}. Use transform() instead."
            )
        return self._encode(X).astype(np.int8, copy=False)

    def expand(self, first_spikes: Any) -> np.ndarray:
        """Compact first-spike times ``(N, H, W, C)`` -> dense bool spikes ``(N, T, H, W, C)``."""
        return conventions.from_first_spike(first_spikes, self.time_steps)

    def responses(self, X: Any) -> np.ndarray:
        """The float ON/OFF maps ``(N, H', W', 2)`` that the latency code ranks.

        Thresholded, rounded and locally normalised DoG responses (0 = no spike; float64,
        ``N * H' * W' * 16`` bytes); useful for plots and for checking the encoder.
        """
        return self._run(X, lambda inner: inner, np.float64, fill=0.0)

    def _encode(self, X: Any, dense: bool = False) -> np.ndarray:
        """First-spike bins (N, H', W', 2), int8 (int32 if n_bins > 127); ``dense``: the bool
        spike trains (N, T, H', W', 2) instead."""
        method, n_bins = self.latency, int(self.n_bins)
        dtype = np.int8 if n_bins <= np.iinfo(np.int8).max else np.int32
        return self._run(
            X, lambda inner: latency_fn.latency_bins(inner, method, n_bins), dtype,
            fill=conventions.NO_SPIKE, time_steps=self.time_steps if dense else None,
        )

    def _run(self, X: Any, per_batch: Callable[[np.ndarray], np.ndarray], dtype: Any,
             fill: float, time_steps: int | None = None) -> np.ndarray:
        """Apply ``per_batch`` to the inner DoG maps of each batch; assemble (N, H', W', 2)
        (with ``time_steps``: expand first-spike steps to bool spikes (N, T, H', W', 2))."""
        params = self._validate_params()
        x = self._check_images(X, params)
        n = x.shape[0]
        b = params.border_size
        h, w = params.map_shape(x.shape[1:])
        if time_steps is None:
            out = np.full((n, h, w, 2), fill, dtype)
        else:
            out = np.empty((n, time_steps, h, w, 2), bool)
            steps = np.arange(time_steps).reshape(1, time_steps, 1, 1, 1)
        step = int(self.batch_size)
        starts = range(0, n, step)

        def encode_batch(start):
            # every thread writes its own rows of the result (numpy releases the GIL)
            inner, _ = dog_fn.dog_responses_inner(x[start : start + step], params)
            values = per_batch(inner).transpose(0, 2, 3, 1)
            if time_steps is None:
                out[start : start + step, b : h - b, b : w - b, :] = values
            else:
                first = np.full((values.shape[0], h, w, 2), fill, dtype)
                first[:, b : h - b, b : w - b, :] = values
                np.equal(first[:, None], steps, out=out[start : start + step])
            return start

        workers = _n_workers(self.n_jobs, len(starts))
        # The matrix products are small; a multi-threaded BLAS only adds synchronisation
        # (up to 9x slower on a busy machine), so BLAS runs single-threaded here and the
        # batches are spread over n_jobs threads instead (numpy releases the GIL).
        pool = ThreadPoolExecutor(workers) if workers > 1 else None
        with _single_threaded_blas(), pool or contextlib.nullcontext():
            results = pool.map(encode_batch, starts) if pool else map(encode_batch, starts)
            if self.progress:
                from tqdm.auto import tqdm

                results = tqdm(results, total=len(starts), desc="InputLayer", unit="batch")
            for _ in results:
                pass
        return out

    # ----------------------------------------------------------------------------------------
    # Validation
    # ----------------------------------------------------------------------------------------

    def _validate_params(self) -> DoGParams:
        """Check every parameter; return the layer's :class:`DoGParams`."""
        params = self.dog_params()
        check_in(self.latency, "latency", latency_fn.METHODS)
        check_int(self.n_bins, "n_bins", minimum=1)
        check_int(self.n_empty_bins, "n_empty_bins", minimum=0)
        check_int(self.batch_size, "batch_size", minimum=1)
        check_n_jobs(self.n_jobs)
        check_bool(self.progress, "progress")
        return params

    def _resize_ragged(self, X: Any, params: DoGParams) -> np.ndarray:
        """Images of different sizes: check each, area-resize each to ``resize_to``, stack."""
        images = list(X)
        if not images:
            raise ValueError("Expected at least one image in X. Received: an empty batch.")
        if params.resize_to is None:
            if len({np.shape(im) for im in images}) == 1:
                return self._check_images(np.stack([np.asarray(im) for im in images]), params)
            raise ValueError(
                "Expected images of one size when resize_to=None. Received: a list / object "
                "array of images of different sizes. Set resize_to=(height, width)."
            )
        out = []
        for i, im in enumerate(images):
            im = np.asarray(im)
            if im.ndim != 2:
                raise ValueError(
                    f"Expected each image of X to be 2-D (H, W) grey. Received: X[{i}].shape="
                    f"{im.shape}."
                )
            one = self._check_images(im[None], params)  # dtype, finiteness and range checks
            out.append(resize_area(one, params.resize_to).astype(np.float64))
        # Integer images were rounded to 8 bits by the resize; float images were not.
        return np.concatenate(out)

    def _check_images(self, X: Any, params: DoGParams) -> np.ndarray:
        """Return ``X`` as a numpy array after checking type, rank, emptiness and range."""
        if _is_ragged(X):
            return self._resize_ragged(X, params)
        if isinstance(X, np.ndarray):
            x = X
        else:
            try:
                x = np.asarray(X)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"Expected X to be an array of grey images (N, H, W). Received: "
                    f"{type(X).__name__} ({exc})."
                ) from None
        if x.dtype == bool or not (
            np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)
        ):
            raise TypeError(
                "Expected X to hold integer or float grey values 0..255. "
                f"Received: dtype={x.dtype}. Convert with X.astype(np.uint8) or np.float32."
            )
        if x.ndim != 3:
            hint = {
                2: "For a single image use X[None].",
                4: "For (N, H, W, 1) images use X[..., 0]; convert colour images to grey.",
            }.get(x.ndim, "")
            raise ValueError(
                f"Expected X of shape (N, H, W) (a batch of grey images). Received: "
                f"shape={x.shape} (ndim={x.ndim}). {hint}".rstrip()
            )
        if x.shape[0] == 0:
            raise ValueError(
                f"Expected at least one image in X. Received: shape={x.shape} (an empty batch)."
            )
        if x.shape[1] < 1 or x.shape[2] < 1:
            raise ValueError(f"Expected images of at least 1x1 pixels. Received: shape={x.shape}.")
        if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
            n_bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
            raise ValueError(
                f"Expected finite grey values in X. Received: {n_bad} NaN/inf values. "
                "Clean or impute them first."
            )
        lo, hi = x.min(), x.max()
        if lo < 0 or hi > 255:
            raise ValueError(
                "Expected grey values in 0..255 in X. Received: values in "
                f"{lo}..{hi}. Rescale the images to 0..255 (e.g. X * 255 for [0, 1] data)."
            )
        if np.issubdtype(x.dtype, np.floating) and hi <= 1.0 and hi > 0:
            logger.warning(
                "X looks scaled to [0, 1] (max %.3g); the thresholds assume 0..255 grey values.",
                float(hi),
            )
        params.map_shape(x.shape[1:])  # raises when the geometry leaves no map
        return x


_BLAS: list[ThreadpoolController] = []  # created on first use (library discovery costs ~5 ms)


def _single_threaded_blas() -> Any:
    """Context manager limiting the BLAS libraries of the process to one thread."""
    if not _BLAS:
        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1, user_api="blas")


def _is_ragged(X: Any) -> bool:
    """A list / object array of 2-D images (e.g. Caltech images of different sizes)."""
    if isinstance(X, np.ndarray):
        return X.dtype == object and X.ndim == 1
    return (isinstance(X, (list, tuple)) and len(X) > 0
            and all(isinstance(im, np.ndarray) and im.ndim == 2 for im in X)
            and len({im.shape for im in X}) > 1)


def _n_workers(n_jobs: int | None, n_batches: int) -> int:
    return max(1, min(effective_n_jobs(n_jobs), n_batches))
