"""Audio front end of the s2net pipeline: log-Mel spectrogram with derivatives (numpy).

Zimmer et al., section 6.1.1: 40 log-Mel bands between 20 and 4000 Hz from an STFT with a 30 ms
window and a 10 ms hop (one hop = one simulation time step), plus their first and second time
derivatives as three input channels, each band rescaled to unit variance over time.

This is host preprocessing in numpy (no deep-learning framework), so the features are the same
whichever Keras backend trains on them. The numbers are those of the earlier implementation with
TensorFlow's signal module up to that implementation's float32 round-off (everything here is
computed in float64 and returned as float32; on the FSDD recordings the standardised features
differ by at most 4e-4, mostly by under 1e-5).

Choices made here (the paper used LibROSA):

* Periodic Hann window of ``round(0.030 * sr)`` samples, FFT length the next power of two,
  magnitude spectrum (power 1) -> triangular HTK Mel filters (without the DC bin, as
  TensorFlow's ``linear_to_mel_weight_matrix``) -> ``log(mel + 1e-6)``.
* Derivatives by the standard regression formula over +-2 frames
  ``d[t] = sum_{k=1..2} k (c[t+k] - c[t-k]) / (2 sum k^2)`` with edge frames repeated.
* Each band of each channel is standardised over the time frames of the recording: zero mean
  and unit variance (the paper only states unit variance; centring makes the "silence" of
  padding equal to the mean level). Bands with a standard deviation below 1e-3 (log units)
  are only centred.
* Normalisation happens before padding/cropping to the fixed length, so padded frames are 0.

Shapes: a waveform ``(samples,)`` gives features ``(frames, n_mels, 3)``; the batch helpers give
``(N, T, n_mels, 3)`` -- the ``(N, T, F, C)`` sequence layout of the s2net backend. Every
function takes array-likes (numpy arrays, or tensors of any backend on the CPU) and returns
numpy arrays.

>>> import numpy as np
>>> wave = np.sin(2 * np.pi * 440 * np.arange(8000) / 8000).astype("float32")
>>> log_mel_features(wave, sample_rate=8000).shape
(98, 40, 3)
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .._validation import check_float, check_in, check_int

__all__ = [
    "log_mel_spectrogram",
    "deltas",
    "standardize_bands",
    "log_mel_features",
    "fix_length",
    "trim_silence",
    "AudioDataset",
    "audio_dataset",
    "features_array",
    "augment_features",
]

_LOG_OFFSET = 1e-6
# HTK Mel scale: mel = 1127 ln(1 + f / 700).
_MEL_BREAK_HZ = 700.0
_MEL_Q = 1127.0


def _frame_params(sample_rate, window_ms, hop_ms):
    frame_length = int(round(sample_rate * window_ms / 1000.0))
    frame_step = int(round(sample_rate * hop_ms / 1000.0))
    if frame_length < 2 or frame_step < 1:
        raise ValueError(
            "Expected window_ms and hop_ms giving at least 2 and 1 samples at this sample_rate. "
            f"Received: sample_rate={sample_rate}, window_ms={window_ms}, hop_ms={hop_ms}."
        )
    fft_length = 1 << (frame_length - 1).bit_length()
    return frame_length, frame_step, fft_length


def _to_numpy(x: Any, dtype: Any = None) -> np.ndarray:
    """``x`` (array-like or a backend tensor on the CPU) as a numpy array."""
    if not isinstance(x, np.ndarray) and hasattr(x, "numpy"):  # TensorFlow or PyTorch
        x = x.detach().cpu().numpy() if hasattr(x, "detach") else x.numpy()
    return np.asarray(x, dtype=dtype)


@functools.lru_cache(maxsize=16)
def _mel_matrix(n_mels: int, n_bins: int, sample_rate: int, fmin: float,
                fmax: float) -> np.ndarray:
    """HTK triangular Mel filters ``(n_bins, n_mels)`` float64, the DC bin zero (the filters of
    TensorFlow's ``linear_to_mel_weight_matrix``, which builds them in float32). Read-only,
    cached."""
    def hz_to_mel(hz):
        return _MEL_Q * np.log1p(np.asarray(hz, np.float64) / _MEL_BREAK_HZ)

    bins_mel = hz_to_mel(np.linspace(0.0, sample_rate / 2.0, n_bins)[1:])[:, None]
    edges = np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2)
    lower, center, upper = edges[:-2][None], edges[1:-1][None], edges[2:][None]
    weights = np.maximum(0.0, np.minimum((bins_mel - lower) / (center - lower),
                                         (upper - bins_mel) / (upper - center)))
    out = np.concatenate([np.zeros((1, n_mels)), weights])
    out.setflags(write=False)
    return out


@functools.lru_cache(maxsize=16)
def _hann(frame_length: int) -> np.ndarray:
    """Periodic Hann window (TensorFlow's ``hann_window``), float64. Read-only, cached."""
    w = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(frame_length) / frame_length)
    w.setflags(write=False)
    return w


def _log_mel64(waveform, sample_rate, n_mels, fmin, fmax, window_ms, hop_ms) -> np.ndarray:
    """:func:`log_mel_spectrogram` in float64."""
    if fmax > sample_rate / 2 + 1e-9 or not 0 <= fmin < fmax:
        raise ValueError(
            "Expected 0 <= fmin < fmax <= sample_rate / 2. "
            f"Received: fmin={fmin}, fmax={fmax}, sample_rate={sample_rate}."
        )
    frame_length, frame_step, fft_length = _frame_params(sample_rate, window_ms, hop_ms)
    x = _to_numpy(waveform, np.float32)
    if x.ndim != 1:
        raise ValueError(f"Expected a 1-D waveform (samples,). Received: shape={x.shape}.")
    if len(x) < frame_length:
        x = np.pad(x, (0, frame_length - len(x)))
    frames = np.lib.stride_tricks.sliding_window_view(x, frame_length)[::frame_step]
    spectrum = np.abs(np.fft.rfft(frames * _hann(frame_length), n=fft_length, axis=-1))
    mel = _mel_matrix(int(n_mels), fft_length // 2 + 1, int(sample_rate), float(fmin),
                      float(fmax))
    return np.log(spectrum @ mel + _LOG_OFFSET)


def log_mel_spectrogram(
    waveform: Any,
    sample_rate: int = 8000,
    n_mels: int = 40,
    fmin: float = 20.0,
    fmax: float = 4000.0,
    window_ms: float = 30.0,
    hop_ms: float = 10.0,
) -> np.ndarray:
    """Log-Mel spectrogram ``(frames, n_mels)`` float32 of a waveform ``(samples,)`` (float,
    any scale).

    Frames: ``1 + (samples - window) // hop`` (an STFT without padding, as TensorFlow's ``stft``);
    a waveform shorter than one window is zero-padded to one window.
    """
    return _log_mel64(waveform, sample_rate, n_mels, fmin, fmax, window_ms,
                      hop_ms).astype(np.float32)


def _deltas64(x: np.ndarray, width: int = 2) -> np.ndarray:
    n = x.shape[0]
    idx = np.arange(n)
    out = np.zeros_like(x)
    for k in range(1, width + 1):
        out += k * (x[np.minimum(idx + k, n - 1)] - x[np.maximum(idx - k, 0)])
    return out / (2.0 * sum(k * k for k in range(1, width + 1)))


def deltas(features: Any, width: int = 2) -> np.ndarray:
    """Regression time derivative of ``features`` ``(frames, ...)`` over +-``width`` frames
    (float32).

    >>> deltas(np.array([[0.0], [1.0], [2.0], [3.0], [4.0]])).ravel().tolist()
    [0.5, 0.800000011920929, 1.0, 0.800000011920929, 0.5]
    """
    x = _to_numpy(features, np.float32).astype(np.float64)
    return _deltas64(x, int(width)).astype(np.float32)


def _standardize64(x: np.ndarray, eps: float = 1e-3) -> np.ndarray:
    mean = x.mean(axis=0, keepdims=True)
    std = np.sqrt(np.mean(np.square(x - mean), axis=0, keepdims=True))
    return (x - mean) / np.where(std > eps, std, 1.0)


def standardize_bands(features: Any, eps: float = 1e-3) -> np.ndarray:
    """Zero mean and unit variance over time (axis 0) of every band/channel of ``features``
    (float32).

    Bands whose standard deviation is below ``eps`` (effectively constant, e.g. empty bands of a
    pure tone) are only centred, so float round-off is not blown up to unit variance.

    >>> standardize_bands(np.array([[1.0, 5.0], [3.0, 5.0]])).tolist()
    [[-1.0, 0.0], [1.0, 0.0]]
    """
    x = _to_numpy(features, np.float32).astype(np.float64)
    return _standardize64(x, float(eps)).astype(np.float32)


def log_mel_features(waveform: Any, sample_rate: int = 8000, n_mels: int = 40,
                     fmin: float = 20.0, fmax: float = 4000.0, window_ms: float = 30.0,
                     hop_ms: float = 10.0) -> np.ndarray:
    """Standardised log-Mel, delta and delta-delta as channels: ``(frames, n_mels, 3)``
    float32."""
    logmel = _log_mel64(waveform, sample_rate, n_mels, fmin, fmax, window_ms, hop_ms)
    d1 = _deltas64(logmel)
    d2 = _deltas64(d1)
    return np.stack([_standardize64(c) for c in (logmel, d1, d2)], axis=-1).astype(np.float32)


def fix_length(features: Any, length: int, align: str = "start") -> np.ndarray:
    """Pad with zeros or crop ``features`` ``(frames, ...)`` to exactly ``length`` frames.

    ``align="start"`` keeps the first frames and pads at the end; ``"center"`` crops or pads
    symmetrically. The dtype is kept.

    >>> fix_length(np.ones((3, 2)), 5)[:, 0].tolist()
    [1.0, 1.0, 1.0, 0.0, 0.0]
    >>> fix_length(np.arange(6.0)[:, None], 2, align="center").ravel().tolist()
    [2.0, 3.0]
    """
    length = check_int(length, "length")
    check_in(align, "align", ("start", "center"))
    x = _to_numpy(features)
    n = x.shape[0]
    start = max(n - length, 0) // 2 if align == "center" else 0
    x = x[start:start + length]
    missing = length - x.shape[0]
    before = missing // 2 if align == "center" else 0
    return np.pad(x, [(before, missing - before)] + [(0, 0)] * (x.ndim - 1))


def trim_silence(waveform: Any, top_db: float = 40.0, frame_length: int = 240,
                 hop_length: int = 80) -> np.ndarray:
    """Cut leading and trailing silence: keep the frames within ``top_db`` of the loudest.

    Frame energies are the mean square of frames of ``frame_length`` samples every
    ``hop_length`` samples (the last frame zero-padded); the waveform is cut from the start of
    the first frame to the end of the last frame whose energy is at least
    ``max energy * 10^(-top_db / 10)`` (as ``librosa.effects.trim``, without librosa). A
    waveform shorter than one frame, or entirely silent, is returned unchanged (float32).

    >>> w = np.concatenate([np.zeros(800), np.ones(400), np.zeros(1600)]).astype("float32")
    >>> len(trim_silence(w))  # frames from sample 640 to 1360 overlap the sound
    720
    """
    top_db = check_float(top_db, "top_db", low=0, low_open=True)
    frame_length = check_int(frame_length, "frame_length")
    hop_length = check_int(hop_length, "hop_length")
    x = _to_numpy(waveform, np.float32)
    n = x.shape[0]
    if n <= frame_length:
        return x
    n_frames = -(-n // hop_length)  # every start hop_length apart before the end
    padded = np.pad(x, (0, (n_frames - 1) * hop_length + frame_length - n)).astype(np.float64)
    frames = np.lib.stride_tricks.sliding_window_view(padded, frame_length)[::hop_length]
    energy = np.mean(np.square(frames), axis=-1)
    peak = energy.max()
    if not peak > 0:
        return x
    loud = np.flatnonzero(energy >= peak * 10.0 ** (-float(top_db) / 10.0))
    return x[loud[0] * hop_length:min(loud[-1] * hop_length + frame_length, n)]


def _waveform_list(waveforms) -> list[np.ndarray]:
    arrays = [_to_numpy(w, np.float32).ravel() for w in waveforms]
    if not arrays:
        raise ValueError("Expected at least one waveform. Received: an empty sequence.")
    if min(len(a) for a in arrays) == 0:
        raise ValueError("Expected non-empty waveforms. Received a waveform of length 0.")
    return arrays


class AudioDataset:
    """Re-iterable waveforms -> fixed-length log-Mel features (built by :func:`audio_dataset`).

    Iterating yields numpy arrays: features ``(length, n_mels, 3)`` float32, or
    ``(features, label)`` pairs, or batches of them (the last batch may be smaller). Features
    are computed on the fly in recording order unless a cache holds them. ``len()`` is the
    number of elements (batches if batched).
    """

    def __init__(self, waveforms: list[np.ndarray], labels: np.ndarray | None,
                 featurize: Any, cache: str | None, batch_size: int | None) -> None:
        self._waveforms = waveforms
        self._labels = labels
        self._featurize = featurize
        self._cache = cache
        self._memory: np.ndarray | None = None
        self.batch_size = batch_size

    def __len__(self) -> int:
        n = len(self._waveforms)
        return n if self.batch_size is None else -(-n // self.batch_size)

    def _cache_file(self) -> str:
        return f"{self._cache}.npz"

    def _stored(self) -> np.ndarray | None:
        if self._memory is not None:
            return self._memory
        if self._cache not in (None, "memory") and os.path.exists(self._cache_file()):
            from .. import io

            x = io.load_npz(self._cache_file())["features"]
            if len(x) != len(self._waveforms):
                raise ValueError(
                    f"The feature cache {self._cache_file()!r} holds {len(x)} recordings, not "
                    f"{len(self._waveforms)}: use a different cache path for different data."
                )
            self._memory = x
            return x
        return None

    def _features(self) -> Iterator[np.ndarray]:
        stored = self._stored()
        if stored is not None:
            yield from stored
            return
        done = []
        for w in self._waveforms:
            f = self._featurize(w)
            done.append(f)
            yield f
        if self._cache is not None:  # a complete pass: keep it
            x = np.stack(done)
            if self._cache != "memory":
                from .. import io

                io.save_npz_atomic(self._cache_file(), features=x)
            self._memory = x

    def __iter__(self) -> Iterator[Any]:
        elements: Iterator[Any] = self._features()
        if self._labels is not None:
            elements = zip(elements, self._labels)
        if self.batch_size is None:
            yield from elements
            return
        batch = []
        for e in elements:
            batch.append(e)
            if len(batch) == self.batch_size:
                yield self._stack(batch)
                batch = []
        if batch:
            yield self._stack(batch)

    def _stack(self, batch):
        if self._labels is None:
            return np.stack(batch)
        return np.stack([b[0] for b in batch]), np.stack([b[1] for b in batch])


def audio_dataset(waveforms: Sequence[Any], labels: Any = None, *, length: int = 80,
                  sample_rate: int = 8000, n_mels: int = 40, fmin: float = 20.0,
                  fmax: float = 4000.0, window_ms: float = 30.0, hop_ms: float = 10.0,
                  align: str = "start", trim_db: float | None = None,
                  cache: str | os.PathLike | None = None,
                  batch_size: int | None = None) -> AudioDataset:
    """Waveforms -> fixed-length log-Mel features ``(length, n_mels, 3)``, as a re-iterable
    :class:`AudioDataset` of numpy arrays.

    Parameters
    ----------
    waveforms : sequence of 1-D arrays
        Raw audio of varying lengths (any scale; int16 is fine).
    labels : array-like (N,), optional
        If given, elements are ``(features, label)``.
    length : int
        Frames (time steps of ``hop_ms``) after padding/cropping.
    align : {"start", "center"}
        Where padding/cropping happens (see :func:`fix_length`).
    trim_db : float, optional
        Cut leading/trailing silence quieter than ``trim_db`` below the loudest frame first
        (:func:`trim_silence` with the STFT's window and hop), so cropping keeps the sound.
    cache : None, "memory" or path
        ``"memory"`` keeps the features in RAM after the first complete pass; a path keeps them
        in the file ``<path>.npz`` (written after the first complete pass, read by every later
        pass and by later datasets with the same path; the directory must exist). The cache
        key is the caller's responsibility: use a different path for different settings.
    batch_size : int, optional
        Batch the elements (numpy arrays stacked on a new first axis).
    """
    arrays = _waveform_list(waveforms)
    if labels is not None:
        labels = np.asarray(labels)
        if len(labels) != len(arrays):
            raise ValueError(
                f"Expected one label per waveform. Received: {len(labels)} labels for "
                f"{len(arrays)} waveforms."
            )
    if cache is not None and cache != "memory":
        cache = os.fspath(cache)
        parent = os.path.dirname(cache) or "."
        if not os.path.isdir(parent):
            raise ValueError(
                f"Expected cache to be None, 'memory' or a path in an existing directory. "
                f"Received: cache={cache!r}."
            )
    length = check_int(length, "length")
    check_in(align, "align", ("start", "center"))
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size")
    frame_length, frame_step, _ = _frame_params(sample_rate, window_ms, hop_ms)
    trim_db = check_float(trim_db, "trim_db", low=0, low_open=True, allow_none=True)

    def featurize(w):
        if trim_db is not None:
            w = trim_silence(w, trim_db, frame_length, frame_step)
        f = log_mel_features(w, sample_rate, n_mels, fmin, fmax, window_ms, hop_ms)
        return fix_length(f, length, align)

    return AudioDataset(arrays, labels, featurize, cache, batch_size)


def features_array(waveforms: Sequence[Any], **kwargs: Any) -> np.ndarray:
    """All features as one array ``(N, length, n_mels, 3)`` float32 (options of
    :func:`audio_dataset`).

    >>> features_array([np.ones(800), np.zeros(4000)], length=10).shape
    (2, 10, 40, 3)
    """
    kwargs.pop("batch_size", None)
    return np.stack(list(audio_dataset(waveforms, **kwargs)))


def _seed_sequence(seed: Any) -> np.random.SeedSequence:
    words = np.ravel(_to_numpy(seed)).tolist()
    if not words or not all(isinstance(w, int) and not isinstance(w, bool) for w in words):
        raise TypeError(f"Expected seed as an int or a sequence of ints. Received: {seed!r}.")
    return np.random.SeedSequence([w % 2**64 for w in words])


def augment_features(features: Any, seed: Any, max_shift: int = 0, time_masks: int = 0,
                     max_time_mask: int = 0, freq_masks: int = 0, max_freq_mask: int = 0,
                     noise_std: float = 0.0) -> np.ndarray:
    """Random training-set augmentation of a batch of features ``(N, T, F, C)`` (float32).

    Applied per sample, in this order (numpy, seeded: the same ``seed`` gives the same
    result; each option draws from its own stream, so enabling one does not change the
    others' draws):

    * **time shift** by an integer ``s`` uniform in ``[-max_shift, max_shift]`` frames:
      ``out[t] = x[t - s]``, with zeros (the per-band mean after standardisation) shifted in;
    * **SpecAugment-style masks** (Park et al. 2019): ``time_masks`` bands of ``w`` frames
      and ``freq_masks`` bands of ``w`` Mel bins, ``w`` uniform in ``[0, max_*_mask]``,
      set to 0 in every channel;
    * **Gaussian noise** of standard deviation ``noise_std`` (in units of the per-band std).

    Parameters
    ----------
    features : float array (N, T, F, C)
    seed : int or sequence of ints (e.g. ``(seed, epoch * batches + batch)``)
        Seed of the numpy generators (vary it per batch and epoch).

    >>> x = np.arange(1.0, 7.0, dtype="float32").reshape(1, 6, 1, 1)
    >>> augment_features(x, seed=(0, 0)).ravel().tolist()  # no option: identity
    [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    """
    x = _to_numpy(features, np.float32)
    if x.ndim != 4:
        raise ValueError(f"Expected features (N, T, F, C). Received: shape={x.shape}.")
    max_shift = check_int(max_shift, "max_shift", minimum=0)
    time_masks = check_int(time_masks, "time_masks", minimum=0)
    max_time_mask = check_int(max_time_mask, "max_time_mask", minimum=0)
    freq_masks = check_int(freq_masks, "freq_masks", minimum=0)
    max_freq_mask = check_int(max_freq_mask, "max_freq_mask", minimum=0)
    noise_std = check_float(noise_std, "noise_std", low=0)
    streams = [np.random.default_rng(s) for s in _seed_sequence(seed).spawn(4)]
    n, t, f, _ = x.shape
    if max_shift > 0:
        shift = streams[0].integers(-max_shift, max_shift + 1, size=n)
        padded = np.pad(x, [(0, 0), (max_shift, max_shift), (0, 0), (0, 0)])
        idx = np.arange(t)[None, :] + (max_shift - shift)[:, None]
        x = np.take_along_axis(padded, idx[:, :, None, None], axis=1)

    def masks(count, widest, size, rng):
        keep = np.ones((n, size), np.float32)
        if count == 0 or widest == 0:
            return keep
        width = rng.integers(0, widest + 1, size=(n, count))
        start = (rng.random((n, count)) * (size - width + 1)).astype(np.int64)
        pos = np.arange(size)[None, None, :]
        inside = (pos >= start[..., None]) & (pos < (start + width)[..., None])
        return 1.0 - np.any(inside, axis=1).astype(np.float32)

    x = (x * masks(time_masks, max_time_mask, t, streams[1])[:, :, None, None]
         * masks(freq_masks, max_freq_mask, f, streams[2])[:, None, :, None])
    if noise_std > 0:
        x = x + np.float32(noise_std) * streams[3].standard_normal(x.shape, dtype=np.float32)
    return x
