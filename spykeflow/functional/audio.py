"""Audio front end of the s2net pipeline: log-Mel spectrogram with derivatives (TensorFlow only).

Zimmer et al., section 6.1.1: 40 log-Mel bands between 20 and 4000 Hz from an STFT with a 30 ms
window and a 10 ms hop (one hop = one simulation time step), plus their first and second time
derivatives as three input channels, each band rescaled to unit variance over time.

Choices made here (the paper used LibROSA):

* Periodic Hann window of ``round(0.030 * sr)`` samples, FFT length the next power of two,
  magnitude spectrum (power 1) -> triangular HTK Mel filters
  (``tf.signal.linear_to_mel_weight_matrix``) -> ``log(mel + 1e-6)``.
* Derivatives by the standard regression formula over +-2 frames
  ``d[t] = sum_{k=1..2} k (c[t+k] - c[t-k]) / (2 sum k^2)`` with edge frames repeated.
* Each band of each channel is standardised over the time frames of the recording: zero mean
  and unit variance (the paper only states unit variance; centring makes the "silence" of
  padding equal to the mean level). Bands with a standard deviation below 1e-3 (log units)
  are only centred.
* Normalisation happens before padding/cropping to the fixed length, so padded frames are 0.

Shapes: a waveform ``(samples,)`` gives features ``(frames, n_mels, 3)``; the batch helpers give
``(N, T, n_mels, 3)`` -- the ``(N, T, F, C)`` sequence layout of the s2net backend.

>>> import numpy as np
>>> wave = np.sin(2 * np.pi * 440 * np.arange(8000) / 8000).astype("float32")
>>> log_mel_features(wave, sample_rate=8000).shape
TensorShape([98, 40, 3])
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from .._validation import check_float, check_in, check_int

__all__ = [
    "log_mel_spectrogram",
    "deltas",
    "standardize_bands",
    "log_mel_features",
    "fix_length",
    "trim_silence",
    "audio_dataset",
    "features_array",
    "augment_features",
]

_LOG_OFFSET = 1e-6


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


def log_mel_spectrogram(
    waveform: Any,
    sample_rate: int = 8000,
    n_mels: int = 40,
    fmin: float = 20.0,
    fmax: float = 4000.0,
    window_ms: float = 30.0,
    hop_ms: float = 10.0,
) -> tf.Tensor:
    """Log-Mel spectrogram ``(frames, n_mels)`` of a waveform ``(samples,)`` (float, any scale).

    Frames: ``1 + (samples - window) // hop`` (``tf.signal.stft`` without padding); a waveform
    shorter than one window is zero-padded to one window.
    """
    if fmax > sample_rate / 2 + 1e-9 or not 0 <= fmin < fmax:
        raise ValueError(
            "Expected 0 <= fmin < fmax <= sample_rate / 2. "
            f"Received: fmin={fmin}, fmax={fmax}, sample_rate={sample_rate}."
        )
    frame_length, frame_step, fft_length = _frame_params(sample_rate, window_ms, hop_ms)
    x = tf.convert_to_tensor(waveform, tf.float32)
    if x.shape.rank != 1:
        raise ValueError(f"Expected a 1-D waveform (samples,). Received: shape={x.shape}.")
    short = tf.maximum(0, frame_length - tf.shape(x)[0])
    x = tf.pad(x, [[0, short]])
    stft = tf.signal.stft(
        x, frame_length, frame_step, fft_length=fft_length, window_fn=tf.signal.hann_window
    )
    mags = tf.abs(stft)
    mel = tf.signal.linear_to_mel_weight_matrix(
        n_mels, fft_length // 2 + 1, sample_rate, float(fmin), float(fmax)
    )
    return tf.math.log(tf.matmul(mags, mel) + _LOG_OFFSET)


def deltas(features: Any, width: int = 2) -> tf.Tensor:
    """Regression time derivative of ``features`` ``(frames, ...)`` over +-``width`` frames.

    >>> deltas(tf.constant([[0.0], [1.0], [2.0], [3.0], [4.0]])).numpy().ravel().tolist()
    [0.5, 0.800000011920929, 1.0, 0.800000011920929, 0.5]
    """
    x = tf.convert_to_tensor(features, tf.float32)
    n = tf.shape(x)[0]
    denom = 2.0 * sum(k * k for k in range(1, width + 1))
    out = tf.zeros_like(x)
    idx = tf.range(n)
    for k in range(1, width + 1):
        ahead = tf.gather(x, tf.minimum(idx + k, n - 1))
        behind = tf.gather(x, tf.maximum(idx - k, 0))
        out = out + k * (ahead - behind)
    return out / denom


def standardize_bands(features: Any, eps: float = 1e-3) -> tf.Tensor:
    """Zero mean and unit variance over time (axis 0) of every band/channel of ``features``.

    Bands whose standard deviation is below ``eps`` (effectively constant, e.g. empty bands of a
    pure tone) are only centred, so float round-off is not blown up to unit variance.

    >>> z = standardize_bands(tf.constant([[1.0, 5.0], [3.0, 5.0]]))
    >>> z.numpy().tolist()
    [[-1.0, 0.0], [1.0, 0.0]]
    """
    x = tf.convert_to_tensor(features, tf.float32)
    mean, var = tf.nn.moments(x, axes=[0], keepdims=True)
    std = tf.sqrt(var)
    return (x - mean) / tf.where(std > eps, std, tf.ones_like(std))


def log_mel_features(waveform: Any, sample_rate: int = 8000, n_mels: int = 40,
                     fmin: float = 20.0, fmax: float = 4000.0, window_ms: float = 30.0,
                     hop_ms: float = 10.0) -> tf.Tensor:
    """Standardised log-Mel, delta and delta-delta as channels: ``(frames, n_mels, 3)``."""
    logmel = log_mel_spectrogram(waveform, sample_rate, n_mels, fmin, fmax, window_ms, hop_ms)
    d1 = deltas(logmel)
    d2 = deltas(d1)
    return tf.stack([standardize_bands(c) for c in (logmel, d1, d2)], axis=-1)


def fix_length(features: Any, length: int, align: str = "start") -> tf.Tensor:
    """Pad with zeros or crop ``features`` ``(frames, ...)`` to exactly ``length`` frames.

    ``align="start"`` keeps the first frames and pads at the end; ``"center"`` crops or pads
    symmetrically.

    >>> fix_length(tf.ones((3, 2)), 5).numpy()[:, 0].tolist()
    [1.0, 1.0, 1.0, 0.0, 0.0]
    >>> fix_length(tf.range(6.0)[:, None], 2, align="center").numpy().ravel().tolist()
    [2.0, 3.0]
    """
    length = check_int(length, "length")
    check_in(align, "align", ("start", "center"))
    x = tf.convert_to_tensor(features)
    n = tf.shape(x)[0]
    excess = tf.maximum(n - length, 0)
    start = excess // 2 if align == "center" else tf.constant(0)
    x = x[start:start + length]
    missing = length - tf.shape(x)[0]
    before = missing // 2 if align == "center" else tf.constant(0)
    pads = tf.concat([[[before, missing - before]], tf.zeros([tf.rank(x) - 1, 2], tf.int32)], 0)
    x = tf.pad(x, pads)
    return tf.ensure_shape(x, [length] + x.shape.as_list()[1:])


def trim_silence(waveform: Any, top_db: float = 40.0, frame_length: int = 240,
                 hop_length: int = 80) -> tf.Tensor:
    """Cut leading and trailing silence: keep the frames within ``top_db`` of the loudest.

    Frame energies are the mean square of frames of ``frame_length`` samples every
    ``hop_length`` samples (the last frame zero-padded); the waveform is cut from the start of
    the first frame to the end of the last frame whose energy is at least
    ``max energy * 10^(-top_db / 10)`` (as ``librosa.effects.trim``, without librosa). A
    waveform shorter than one frame, or entirely silent, is returned unchanged.

    >>> w = np.concatenate([np.zeros(800), np.ones(400), np.zeros(1600)]).astype("float32")
    >>> int(tf.shape(trim_silence(w))[0])  # frames from sample 640 to 1360 overlap the sound
    720
    """
    top_db = check_float(top_db, "top_db", low=0, low_open=True)
    x = tf.convert_to_tensor(waveform, tf.float32)
    n = tf.shape(x)[0]
    frames = tf.signal.frame(x, frame_length, hop_length, pad_end=True)
    energy = tf.reduce_mean(tf.square(frames), axis=-1)
    peak = tf.reduce_max(energy)
    loud = tf.where(energy >= peak * 10.0 ** (-float(top_db) / 10.0))[:, 0]
    loud = tf.cast(loud, tf.int32)
    keep = tf.logical_and(n > frame_length, peak > 0)
    first = tf.where(keep, loud[0] * hop_length, 0)
    last = tf.where(keep, tf.minimum(loud[-1] * hop_length + frame_length, n), n)
    return x[first:last]


def _ragged(waveforms):
    arrays = [np.asarray(w, dtype=np.float32).ravel() for w in waveforms]
    if not arrays:
        raise ValueError("Expected at least one waveform. Received: an empty sequence.")
    lengths = [len(a) for a in arrays]
    if min(lengths) == 0:
        raise ValueError("Expected non-empty waveforms. Received a waveform of length 0.")
    return tf.RaggedTensor.from_row_lengths(np.concatenate(arrays), lengths)


def audio_dataset(waveforms: Sequence[Any], labels: Any = None, *, length: int = 80,
                  sample_rate: int = 8000, n_mels: int = 40, fmin: float = 20.0,
                  fmax: float = 4000.0, window_ms: float = 30.0, hop_ms: float = 10.0,
                  align: str = "start", trim_db: float | None = None,
                  cache: str | os.PathLike | None = None,
                  batch_size: int | None = None) -> tf.data.Dataset:
    """``tf.data`` pipeline: waveforms -> fixed-length log-Mel features ``(length, n_mels, 3)``.

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
        ``"memory"`` caches features in RAM after the first pass; a path caches them in files
        with that prefix (the caller chooses the location; the directory must exist). The cache
        key is the caller's responsibility: use a different path for different settings.
    batch_size : int, optional
        Batch the dataset (after the cache).
    """
    ragged = _ragged(waveforms)
    if labels is not None:
        labels = np.asarray(labels)
        if len(labels) != ragged.nrows():
            raise ValueError(
                f"Expected one label per waveform. Received: {len(labels)} labels for "
                f"{int(ragged.nrows())} waveforms."
            )
    if cache is not None and cache != "memory":
        cache = os.fspath(cache)
        parent = os.path.dirname(cache) or "."
        if not os.path.isdir(parent):
            raise ValueError(
                f"Expected cache to be None, 'memory' or a path in an existing directory. "
                f"Received: cache={cache!r}."
            )

    frame_length, frame_step, _ = _frame_params(sample_rate, window_ms, hop_ms)
    trim_db = check_float(trim_db, "trim_db", low=0, low_open=True, allow_none=True)

    def featurize(w):
        if trim_db is not None:
            w = trim_silence(w, trim_db, frame_length, frame_step)
        f = log_mel_features(w, sample_rate, n_mels, fmin, fmax, window_ms, hop_ms)
        return fix_length(f, length, align)

    ds = tf.data.Dataset.from_tensor_slices(ragged)
    ds = ds.map(featurize, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if labels is not None:
        ds = tf.data.Dataset.zip((ds, tf.data.Dataset.from_tensor_slices(labels)))
    if cache == "memory":
        ds = ds.cache()
    elif cache is not None:
        ds = ds.cache(cache)
    if batch_size is not None:
        ds = ds.batch(int(batch_size))
    return ds.prefetch(tf.data.AUTOTUNE)


def features_array(waveforms: Sequence[Any], **kwargs: Any) -> np.ndarray:
    """All features as one array ``(N, length, n_mels, 3)`` float32 (via :func:`audio_dataset`).

    >>> features_array([np.ones(800), np.zeros(4000)], length=10).shape
    (2, 10, 40, 3)
    """
    kwargs.setdefault("batch_size", 256)
    ds = audio_dataset(waveforms, **kwargs)
    return np.concatenate([b.numpy() for b in ds], axis=0)


def augment_features(features: Any, seed: Any, max_shift: int = 0, time_masks: int = 0,
                     max_time_mask: int = 0, freq_masks: int = 0, max_freq_mask: int = 0,
                     noise_std: float = 0.0) -> tf.Tensor:
    """Random training-set augmentation of a batch of features ``(N, T, F, C)``.

    Applied per sample, in this order (all stateless: the same ``seed`` gives the same result):

    * **time shift** by an integer ``s`` uniform in ``[-max_shift, max_shift]`` frames:
      ``out[t] = x[t - s]``, with zeros (the per-band mean after standardisation) shifted in;
    * **SpecAugment-style masks** (Park et al. 2019): ``time_masks`` bands of ``w`` frames
      and ``freq_masks`` bands of ``w`` Mel bins, ``w`` uniform in ``[0, max_*_mask]``,
      set to 0 in every channel;
    * **Gaussian noise** of standard deviation ``noise_std`` (in units of the per-band std).

    Parameters
    ----------
    features : float tensor (N, T, F, C)
    seed : int or shape-(2,) int tensor
        Seed of the stateless random ops (vary it per batch and epoch).

    >>> x = tf.reshape(tf.range(1.0, 7.0), (1, 6, 1, 1))
    >>> augment_features(x, seed=(0, 0)).numpy().ravel().tolist()  # no option: identity
    [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    """
    x = tf.convert_to_tensor(features, tf.float32)
    if x.shape.rank != 4:
        raise ValueError(f"Expected features (N, T, F, C). Received: shape={x.shape}.")
    max_shift = check_int(max_shift, "max_shift", minimum=0)
    time_masks = check_int(time_masks, "time_masks", minimum=0)
    max_time_mask = check_int(max_time_mask, "max_time_mask", minimum=0)
    freq_masks = check_int(freq_masks, "freq_masks", minimum=0)
    max_freq_mask = check_int(max_freq_mask, "max_freq_mask", minimum=0)
    noise_std = check_float(noise_std, "noise_std", low=0)
    if isinstance(seed, int):
        seed = (seed, 0)
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=6)
    shape = tf.shape(x)
    n, t, f = shape[0], shape[1], shape[2]
    if max_shift > 0:
        shift = tf.random.stateless_uniform([n], seeds[0], -max_shift, max_shift + 1, tf.int32)
        padded = tf.pad(x, [[0, 0], [max_shift, max_shift], [0, 0], [0, 0]])
        idx = tf.range(t)[None, :] + (max_shift - shift)[:, None]
        x = tf.gather(padded, idx, batch_dims=1)

    def masks(count, widest, size, s1, s2):
        keep = tf.ones([n, size], x.dtype)
        if count == 0 or widest == 0:
            return keep
        width = tf.random.stateless_uniform([n, count], s1, 0, widest + 1, tf.int32)
        start = tf.cast(tf.random.stateless_uniform([n, count], s2) *
                        tf.cast(size - width + 1, tf.float32), tf.int32)
        pos = tf.range(size)[None, None, :]
        inside = (pos >= start[..., None]) & (pos < (start + width)[..., None])
        return 1.0 - tf.cast(tf.reduce_any(inside, axis=1), x.dtype)

    x = (x * masks(time_masks, max_time_mask, t, seeds[1], seeds[2])[:, :, None, None]
         * masks(freq_masks, max_freq_mask, f, seeds[3], seeds[4])[:, None, :, None])
    if noise_std > 0:
        x = x + float(noise_std) * tf.random.stateless_normal(shape, seeds[5], dtype=x.dtype)
    return x
