"""InputLayer: grey images or event recordings -> spike trains ``(N, T, H, W, C)``.

The image path is the SpykeFlow input encoding (reference section 2.1, E1-E4; Vaila et al.,
arXiv 2002.11843, section II.A). Every behaviour of the original code and of the paper is an
option; the defaults reproduce the original's effective (published) setting:

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
thresholds                ON 50, OFF 50, ``>=``           ``strict_thresholds=True`` (``>``)
rounding                  5 decimals                      ``decimals=None``
local normalisation       17x17 (divide by local mean)    ``local_norm_window=None``
latency code              ``"rank"``: equal-count bins    ``latency="inverse"`` (1/x,
                                                          toolkit-defined quantisation)
time steps                10 bins + 2 empty = 12          ``n_bins``, ``n_empty_bins``
========================  ==============================  ====================================

:data:`PAPER_PARAMS` collects the paper's literal setting (unpublished numbers; no result of
the paper was produced with it).

Spike layout (see :mod:`spykeflow.conventions`): ``(N, T, H, W, C)`` bool, channel 0 = ON,
1 = OFF, time step 0 first; every input neuron spikes at most once per sample. The compact
form (:meth:`InputLayer.transform_compact`) stores the first-spike step as ``int8``
``(N, H, W, C)``, -1 = no spike, 12x smaller than the dense form.
"""

from __future__ import annotations

import contextlib
import logging
import numbers
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from threadpoolctl import ThreadpoolController

from spykeflow import conventions
from spykeflow.functional import dog as dog_fn
from spykeflow.functional import events as events_fn
from spykeflow.functional import latency as latency_fn

__all__ = ["InputLayer", "PAPER_PARAMS"]

logger = logging.getLogger(__name__)

#: The paper's literal encoding (Vaila et al. section II.A): eq. (1) kernels, valid 7x7
#: filtering of the 28x28 image, ``Gamma > 50``, ``tau = 1/Gamma`` (quantised by the toolkit's
#: rule), no local normalisation, no empty bins. ``InputLayer(**PAPER_PARAMS)``.
PAPER_PARAMS = dict(
    resize_to=None,
    dog_kernel="paper",
    dog_padding="valid",
    border_size=0,
    strict_thresholds=True,
    local_norm_window=None,
    latency="inverse",
    n_empty_bins=0,
)

_MAX_DECIMALS = 8  # keeps the scaled-integer box sums below 2**53 (exact)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class InputLayer(TransformerMixin, BaseEstimator):
    """DoG ON/OFF filtering and latency coding of grey images; binning of event recordings.

    A stateless scikit-learn transformer: ``fit`` only validates and returns ``self``, so it
    can head a ``Pipeline``. The batch is processed ``chunk_size`` images at a time, all
    images of a chunk at once (no per-image Python loop).

    Parameters
    ----------
    resize_to : int, (int, int) or None, default=27
        Size ``(height, width)`` after the area resize (OpenCV ``INTER_AREA`` semantics,
        8-bit images rounded back to 8 bits exactly like OpenCV). None: no resize.
    dog_kernel : {"original", "paper"}, default="original"
        See :func:`spykeflow.functional.dog.dog_kernel`.
    dog_size : int, default=7
        Odd kernel side.
    dog_sigmas : (float, float), default=(1.0, 2.0)
        ON-centre (centre, surround) standard deviations in pixels.
    dog_padding : {"same", "valid"}, default="same"
        ``"same"``: maps as large as the (resized) image, reflect-101 border. ``"valid"``:
        maps ``dog_size - 1`` pixels smaller, no border.
    border_size : int, default=2
        Width of the frame of the maps that is set to zero.
    on_threshold, off_threshold : float, default=50.0
        A response spikes only if ``>= threshold`` (``>`` with ``strict_thresholds``).
    strict_thresholds : bool, default=False
    decimals : int or None, default=5
        Responses are rounded to this many decimals after the threshold (0..8).
    local_norm_window : int or None, default=17
        Divide each response by the mean over this window (reflect-101 border), so isolated
        responses outrank equally strong ones in busy regions. None disables it.
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
    chunk_size : int, default=128
        Images encoded together. ~100 keeps the working set in cache; memory grows linearly.
    n_jobs : int or None, default=None
        Threads encoding chunks in parallel (None: 1; -1: all CPUs). The encoder limits
        BLAS to one thread while it runs (``threadpoolctl``), for the whole process.
    verbose : bool, default=False
        Show a tqdm progress bar over chunks.

    Attributes
    ----------
    time_steps : int
        ``T = n_bins + n_empty_bins`` (a property of the parameters, available before fit).

    Examples
    --------
    >>> import numpy as np
    >>> from spykeflow import InputLayer
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
    """

    def __init__(
        self,
        resize_to=27,
        dog_kernel="original",
        dog_size=7,
        dog_sigmas=(1.0, 2.0),
        dog_padding="same",
        border_size=2,
        on_threshold=50.0,
        off_threshold=50.0,
        strict_thresholds=False,
        decimals=5,
        local_norm_window=17,
        latency="rank",
        n_bins=10,
        n_empty_bins=2,
        chunk_size=128,
        n_jobs=None,
        verbose=False,
    ):
        self.resize_to = resize_to
        self.dog_kernel = dog_kernel
        self.dog_size = dog_size
        self.dog_sigmas = dog_sigmas
        self.dog_padding = dog_padding
        self.border_size = border_size
        self.on_threshold = on_threshold
        self.off_threshold = off_threshold
        self.strict_thresholds = strict_thresholds
        self.decimals = decimals
        self.local_norm_window = local_norm_window
        self.latency = latency
        self.n_bins = n_bins
        self.n_empty_bins = n_empty_bins
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ----------------------------------------------------------------------------------------
    # scikit-learn contract
    # ----------------------------------------------------------------------------------------

    def __sklearn_is_fitted__(self):  # stateless: usable without fit
        return True

    def fit(self, X=None, y=None):
        """Validate the parameters (and ``X`` if given); return ``self``. Nothing is learned."""
        self._validate_params()
        if X is not None:
            self._check_images(X)
        return self

    @property
    def time_steps(self):
        """Number of time steps ``T = n_bins + n_empty_bins`` of :meth:`transform`."""
        return int(self.n_bins) + int(self.n_empty_bins)

    # ----------------------------------------------------------------------------------------
    # Images
    # ----------------------------------------------------------------------------------------

    def transform(self, X):
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
            use :meth:`transform_compact` for large datasets.
        """
        return conventions.from_first_spike(self._encode(X), self.time_steps)

    def transform_compact(self, X):
        """Encode grey images to first-spike times, ``(N, H', W', 2)`` ``int8``, -1 = no spike.

        Equals ``conventions.to_first_spike(self.transform(X))`` without building the dense
        tensor; :meth:`expand` (or :func:`spykeflow.conventions.from_first_spike`) converts back.
        """
        self._validate_params()
        if self.time_steps > np.iinfo(np.int8).max:
            raise ValueError(
                "The compact int8 form holds at most 127 time steps. Received: "
                f"n_bins + n_empty_bins = {self.time_steps}. Use transform() instead."
            )
        return self._encode(X).astype(np.int8, copy=False)

    def expand(self, first_spikes):
        """Compact first-spike times ``(N, H, W, C)`` -> dense bool spikes ``(N, T, H, W, C)``."""
        return conventions.from_first_spike(first_spikes, self.time_steps)

    def responses(self, X):
        """The float ON/OFF maps ``(N, H', W', 2)`` that the latency code ranks.

        Thresholded, rounded and locally normalised DoG responses (0 = no spike; float64,
        ``N * H' * W' * 16`` bytes); useful for plots and for checking the encoder.
        """
        maps = self._run(X, lambda inner: inner, np.float64, fill=0.0)
        return maps

    def _dog_kwargs(self):
        return dict(
            kind=self.dog_kernel,
            size=int(self.dog_size),
            sigmas=tuple(float(s) for s in self.dog_sigmas),
            resize_to=self.resize_to,
            padding=self.dog_padding,
            border=int(self.border_size),
            on_threshold=float(self.on_threshold),
            off_threshold=float(self.off_threshold),
            strict=bool(self.strict_thresholds),
            decimals=None if self.decimals is None else int(self.decimals),
            norm_window=None if self.local_norm_window is None else int(self.local_norm_window),
        )

    def _encode(self, X):
        """First-spike bins (N, H', W', 2), int8 (int32 if n_bins > 127)."""
        method, n_bins = self.latency, int(self.n_bins)
        dtype = np.int8 if n_bins <= np.iinfo(np.int8).max else np.int32
        return self._run(
            X, lambda inner: latency_fn.latency_bins(inner, method, n_bins), dtype,
            fill=conventions.NO_SPIKE,
        )

    def _run(self, X, per_chunk, dtype, fill):
        """Apply ``per_chunk`` to the inner DoG maps of each chunk; assemble (N, H', W', 2)."""
        self._validate_params()
        x = self._check_images(X)
        kwargs = self._dog_kwargs()
        n = x.shape[0]
        b = kwargs["border"]
        step = int(self.chunk_size)
        starts = range(0, n, step)

        def encode_chunk(start):
            inner, full = dog_fn.dog_responses_inner(x[start : start + step], **kwargs)
            return start, per_chunk(inner), full

        workers = _n_workers(self.n_jobs, len(starts))
        out = None
        # The matrix products are small; a multi-threaded BLAS only adds synchronisation
        # (up to 9x slower on a busy machine), so BLAS runs single-threaded here and the
        # chunks are spread over n_jobs threads instead (numpy releases the GIL).
        pool = ThreadPoolExecutor(workers) if workers > 1 else None
        with _single_threaded_blas(), pool or contextlib.nullcontext():
            results = pool.map(encode_chunk, starts) if pool else map(encode_chunk, starts)
            if self.verbose:
                from tqdm.auto import tqdm

                results = tqdm(results, total=len(starts), desc="InputLayer", unit="chunk")
            for start, values, (h, w) in results:
                if out is None:
                    out = np.full((n, h, w, 2), fill, dtype)
                out[start : start + step, b : h - b, b : w - b, :] = values.transpose(0, 2, 3, 1)
        return out

    # ----------------------------------------------------------------------------------------
    # Events
    # ----------------------------------------------------------------------------------------

    def transform_events(
        self,
        events,
        sensor_size=(34, 34),
        time_steps=None,
        *,
        window_us=None,
        t_start=None,
        mode="binary",
        first_spike_only=False,
    ):
        """Bin event recordings (e.g. N-MNIST) into spike frames ``(N, T, H, W, 2)``.

        Parameters
        ----------
        events : structured array or sequence of structured arrays
            One recording or N recordings with integer fields ``x`` (column), ``y`` (row),
            ``p`` (1 = ON, 0 = OFF) and ``t`` (microseconds), e.g. the samples of
            ``spykeflow.datasets.load("nmnist")`` (:data:`spykeflow.datasets.EVENT_DTYPE`).
        sensor_size : (int, int), default=(34, 34)
            ``(height, width)``: rows index ``y``, columns index ``x``.
        time_steps : int, optional
            Number of equal time bins ``T``; default :attr:`time_steps` (12).
        window_us : int, optional
            Fixed window length in microseconds (e.g. 300_000 for N-MNIST's three saccades);
            default each recording's own span from ``t_start`` to its last event.
        t_start : int, optional
            Window start in microseconds; default each recording's first event.
        mode : {"binary", "count"}, default="binary"
            ``True`` if any event fell in the bin, or the number of events (``int32``).
        first_spike_only : bool, default=False
            Keep only each pixel/channel's first bin with an event (at most one spike per
            input neuron, like the image path).

        Returns
        -------
        numpy.ndarray, shape (N, T, H, W, 2)
            Channel 0 = ON (p = 1), 1 = OFF (p = 0), as in :mod:`spykeflow.conventions`.
            See :func:`spykeflow.functional.events.bin_events` for the binning rule.
        """
        t_steps = self.time_steps if time_steps is None else time_steps
        _check_int(t_steps, "time_steps", 1)
        if (
            not isinstance(sensor_size, (tuple, list))
            or len(sensor_size) != 2
            or not all(_is_int(s) and s >= 1 for s in sensor_size)
        ):
            raise ValueError(
                "Expected sensor_size to be (height, width), two integers >= 1. "
                f"Received: sensor_size={sensor_size!r}. N-MNIST uses (34, 34)."
            )
        if window_us is not None:
            _check_int(window_us, "window_us", 1)
        if t_start is not None:
            _check_int(t_start, "t_start", 0)
        if mode not in events_fn.MODES:
            raise ValueError(
                f"Expected mode to be one of {list(events_fn.MODES)}. Received: mode={mode!r}."
            )
        if not isinstance(first_spike_only, (bool, np.bool_)):
            raise TypeError(
                f"Expected first_spike_only to be a bool. Received: {first_spike_only!r}."
            )
        return events_fn.bin_events(
            events,
            sensor_size=tuple(int(s) for s in sensor_size),
            time_steps=int(t_steps),
            window_us=window_us,
            t_start=t_start,
            mode=mode,
            first_spike_only=bool(first_spike_only),
        )

    # ----------------------------------------------------------------------------------------
    # Real-valued time series (send-on-delta)
    # ----------------------------------------------------------------------------------------

    def transform_series(self, series, delta=None, *, directions=None, initial=None):
        """Send-on-delta encoding of real-valued time series ``(N, T, F)`` (Zimmer et al. 4.2-4.4).

        Give exactly one of ``delta`` (1-D send-on-delta per feature) or ``directions``
        (multi-dimensional send-on-delta with preferred directions). The image parameters of
        this layer play no part. See :mod:`spykeflow.functional.send_on_delta` for the rule
        and its guarantee (the reconstruction stays within ``delta`` of a signal that moves by
        at most ``delta`` per step).

        Parameters
        ----------
        series : array (N, T, F)
            Time on axis 1 (e.g. log-Mel frames).
        delta : float or array (F,), optional
            Threshold ``> 0``; output ``(N, T, F, 2)`` bool, channel 0 = ON, 1 = OFF.
        directions : array (K, F), optional
            Preferred directions ``w_k`` (rows); output ``(N, T, K)`` bool.
        initial : array broadcastable to (N, F), optional
            Starting reference (default 0).

        >>> import numpy as np
        >>> x = np.array([[[0.0], [0.6], [1.2], [1.1], [0.1]]])
        >>> InputLayer().transform_series(x, delta=0.5)[0, :, 0].astype(int).tolist()
        [[0, 0], [1, 0], [1, 0], [0, 0], [0, 1]]
        """
        from spykeflow.functional import send_on_delta as sod_fn

        if (delta is None) == (directions is None):
            raise ValueError(
                "Expected exactly one of delta (1-D send-on-delta) or directions "
                f"(multi-dimensional). Received: delta={delta!r}, "
                f"directions={'None' if directions is None else 'an array'}."
            )
        if directions is not None:
            return sod_fn.multi_send_on_delta(series, directions, initial=initial)
        return sod_fn.send_on_delta(series, delta, initial=initial)

    # ----------------------------------------------------------------------------------------
    # Validation
    # ----------------------------------------------------------------------------------------

    def _validate_params(self):
        if self.resize_to is not None:
            rs = self.resize_to
            ok = (_is_int(rs) and rs >= 1) or (
                isinstance(rs, (tuple, list)) and len(rs) == 2
                and all(_is_int(s) and s >= 1 for s in rs)
            )
            if not ok:
                raise ValueError(
                    "Expected resize_to to be None, an int >= 1 or a (height, width) pair. "
                    f"Received: resize_to={rs!r}. The published setting is 27."
                )
        if self.dog_kernel not in dog_fn.KERNEL_KINDS:
            raise ValueError(
                f"Expected dog_kernel to be one of {list(dog_fn.KERNEL_KINDS)}. "
                f"Received: dog_kernel={self.dog_kernel!r}."
            )
        dog_fn._check_kernel_args(self.dog_kernel, self.dog_size, self.dog_sigmas)
        if self.dog_padding not in dog_fn.PADDINGS:
            raise ValueError(
                f"Expected dog_padding to be one of {list(dog_fn.PADDINGS)}. "
                f"Received: dog_padding={self.dog_padding!r}."
            )
        _check_int(self.border_size, "border_size", 0)
        for name in ("on_threshold", "off_threshold"):
            value = getattr(self, name)
            if not _is_real(value) or not np.isfinite(value):
                raise TypeError(
                    f"Expected {name} to be a finite number (a DoG response level). "
                    f"Received: {name}={value!r}. The published setting is 50."
                )
        if not isinstance(self.strict_thresholds, (bool, np.bool_)):
            raise TypeError(
                "Expected strict_thresholds to be a bool. "
                f"Received: strict_thresholds={self.strict_thresholds!r}."
            )
        if self.decimals is not None:
            _check_int(self.decimals, "decimals", 0)
            if self.decimals > _MAX_DECIMALS:
                raise ValueError(
                    f"Expected decimals in 0..{_MAX_DECIMALS} or None. "
                    f"Received: decimals={self.decimals}."
                )
        if self.local_norm_window is not None:
            _check_int(self.local_norm_window, "local_norm_window", 1)
        if self.latency not in latency_fn.METHODS:
            raise ValueError(
                f"Expected latency to be one of {list(latency_fn.METHODS)}. "
                f"Received: latency={self.latency!r}."
            )
        _check_int(self.n_bins, "n_bins", 1)
        _check_int(self.n_empty_bins, "n_empty_bins", 0)
        _check_int(self.chunk_size, "chunk_size", 1)
        if self.n_jobs is not None and (not _is_int(self.n_jobs) or self.n_jobs == 0
                                        or self.n_jobs < -1):
            raise ValueError(
                "Expected n_jobs to be None, -1 (all CPUs) or an integer >= 1. "
                f"Received: n_jobs={self.n_jobs!r}."
            )
        if not isinstance(self.verbose, (bool, np.bool_)):
            raise TypeError(f"Expected verbose to be a bool. Received: verbose={self.verbose!r}.")

    def _resize_ragged(self, X):
        """Images of different sizes: check each, area-resize each to ``resize_to``, stack."""
        images = list(X)
        if not images:
            raise ValueError("Expected at least one image in X. Received: an empty batch.")
        if self.resize_to is None:
            if len({np.shape(im) for im in images}) == 1:
                return self._check_images(np.stack([np.asarray(im) for im in images]))
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
            one = self._check_images(im[None])  # dtype, finiteness and range checks
            out.append(dog_fn.resize_area(one, self.resize_to).astype(np.float64))
        # Integer images were rounded to 8 bits by the resize; float images were not.
        return np.concatenate(out)

    def _check_images(self, X):
        """Return ``X`` as a numpy array after checking type, rank, emptiness and range."""
        if _is_ragged(X):
            return self._resize_ragged(X)
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
        if np.issubdtype(x.dtype, np.floating):
            if not np.isfinite(x).all():
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
        h, w = x.shape[1:]
        if self.resize_to is not None:
            h, w = dog_fn._as_hw(self.resize_to)
        if self.dog_padding == "valid" and min(h, w) < self.dog_size:
            raise ValueError(
                f"dog_padding='valid' needs images of at least {self.dog_size}x{self.dog_size} "
                f"pixels (after the resize). Received: {h}x{w}. Use dog_padding='same'."
            )
        h_map = h if self.dog_padding == "same" else h - self.dog_size + 1
        w_map = w if self.dog_padding == "same" else w - self.dog_size + 1
        if min(h_map, w_map) <= 2 * self.border_size:
            raise ValueError(
                f"A border of {self.border_size} pixels leaves nothing of the {h_map}x{w_map} "
                f"DoG maps. Received: border_size={self.border_size}. Use a smaller border_size."
            )
        return x


_BLAS = []  # a ThreadpoolController, created on first use (library discovery costs ~5 ms)


def _single_threaded_blas():
    """Context manager limiting the BLAS libraries of the process to one thread."""
    if not _BLAS:
        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1, user_api="blas")


def _is_ragged(X):
    """A list / object array of 2-D images (e.g. Caltech images of different sizes)."""
    if isinstance(X, np.ndarray):
        return X.dtype == object and X.ndim == 1
    return (isinstance(X, (list, tuple)) and len(X) > 0
            and all(isinstance(im, np.ndarray) and im.ndim == 2 for im in X)
            and len({im.shape for im in X}) > 1)


def _n_workers(n_jobs, n_chunks):
    if n_jobs is None:
        return 1
    if n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    return max(1, min(int(n_jobs), n_chunks))


def _check_int(value, name, minimum):
    if not _is_int(value):
        raise TypeError(f"Expected {name} to be an integer. Received: {name}={value!r}.")
    if value < minimum:
        raise ValueError(f"Expected {name} >= {minimum}. Received: {name}={value}.")
    return int(value)
