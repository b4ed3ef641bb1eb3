"""Audio front end (numpy): shapes, Mel filterbank, derivatives, per-band normalisation, padding,
cache, augmentation, silence trimming."""

import numpy as np
import pytest

from spykeflow.functional import audio


def _tone(freq, seconds=0.5, sr=8000):
    t = np.arange(int(seconds * sr)) / sr
    return np.sin(2 * np.pi * freq * t).astype(np.float32)


def test_shapes_frames_and_channels():
    f = audio.log_mel_features(_tone(440), sample_rate=8000)
    # 30 ms = 240 samples window, 10 ms = 80 hop: 1 + (4000 - 240) // 80 = 48 frames
    assert f.shape == (48, 40, 3)
    short = audio.log_mel_spectrogram(np.ones(100, np.float32))
    assert short.shape == (1, 40)  # padded to one window


def test_tone_energy_in_matching_mel_band():
    low = audio.log_mel_spectrogram(_tone(300)).mean(0)
    high = audio.log_mel_spectrogram(_tone(3000)).mean(0)
    assert np.argmax(low) < 15 < 30 < np.argmax(high)


def test_each_band_standardised_over_time():
    rng = np.random.default_rng(0)
    wave = (rng.normal(size=6000) * np.linspace(0.1, 1, 6000)).astype(np.float32)
    f = audio.log_mel_features(wave)
    np.testing.assert_allclose(f.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(f.std(axis=0), 1.0, atol=1e-3)


def test_derivative_channels_are_deltas_of_logmel():
    wave = _tone(500) * np.linspace(0, 1, 4000, dtype=np.float32)
    lm = audio.log_mel_spectrogram(wave)
    d1 = audio.deltas(lm)
    f = audio.log_mel_features(wave)
    z = (d1 - d1.mean(0)) / np.where(d1.std(0) > 1e-8, d1.std(0), 1)
    np.testing.assert_allclose(f[..., 1], z, atol=1e-3)
    # a linear ramp has a constant interior derivative
    ramp = np.arange(10.0, dtype=np.float32)[:, None] * 3
    np.testing.assert_allclose(audio.deltas(ramp)[2:-2, 0], 3.0, rtol=1e-6)


def test_constant_band_is_centred_not_divided_by_zero():
    z = audio.standardize_bands(np.array([[2.0, 1.0], [2.0, 3.0]], np.float32))
    np.testing.assert_allclose(z[:, 0], [0.0, 0.0])


def test_fix_length_pad_and_crop():
    x = np.arange(10.0, dtype=np.float32).reshape(5, 2)
    assert audio.fix_length(x, 8).shape == (8, 2)
    np.testing.assert_array_equal(audio.fix_length(x, 8)[5:], 0)
    np.testing.assert_array_equal(audio.fix_length(x, 3, align="center")[:, 0], [2, 4, 6])
    np.testing.assert_array_equal(audio.fix_length(x, 7, align="center")[:, 0],
                                  [0, 0, 2, 4, 6, 8, 0])
    with pytest.raises(ValueError, match="length"):
        audio.fix_length(x, 0)
    with pytest.raises(ValueError, match="align"):
        audio.fix_length(x, 3, align="end")


def test_dataset_pipeline_with_file_cache(tmp_path):
    noise = np.random.default_rng(0).normal(scale=0.01, size=4800).astype(np.float32)
    waves = [_tone(300, 0.2), _tone(1000, 0.6) + noise, np.zeros(50, np.float32)]
    ds = audio.audio_dataset(waves, [0, 1, 2], length=30, cache=str(tmp_path / "feat"),
                             batch_size=2)
    batches = list(ds)
    assert [tuple(b[0].shape) for b in batches] == [(2, 30, 40, 3), (1, 30, 40, 3)]
    assert np.asarray(batches[0][1]).tolist() == [0, 1]
    assert any(p.name.startswith("feat") for p in tmp_path.iterdir())
    first = np.concatenate([b[0] for b in batches])
    again = np.concatenate([b[0] for b in ds])  # second pass reads the cache
    np.testing.assert_array_equal(again, first)
    expected = audio.fix_length(audio.log_mel_features(waves[1]), 30)
    np.testing.assert_allclose(first[1], expected, atol=2e-3)


def test_bad_inputs():
    with pytest.raises(ValueError, match="1-D waveform"):
        audio.log_mel_spectrogram(np.zeros((2, 100), np.float32))
    with pytest.raises(ValueError, match="fmax"):
        audio.log_mel_spectrogram(np.zeros(400, np.float32), sample_rate=8000, fmax=5000)
    with pytest.raises(ValueError, match="one label per waveform"):
        audio.audio_dataset([np.ones(300)], [0, 1])
    with pytest.raises(ValueError, match="empty"):
        audio.audio_dataset([])
    with pytest.raises(ValueError, match="existing directory"):
        audio.audio_dataset([np.ones(300)], cache="/nonexistent_dir_xyz/c")


def test_augment_identity_shift_masks_and_determinism():
    x = np.arange(1.0, 1.0 + 2 * 8 * 5 * 3, dtype=np.float32).reshape(2, 8, 5, 3)
    np.testing.assert_array_equal(audio.augment_features(x, seed=(1, 2)), x)
    shifted = audio.augment_features(x, seed=(1, 2), max_shift=3)
    again = audio.augment_features(x, seed=(1, 2), max_shift=3)
    np.testing.assert_array_equal(shifted, again)  # seeded: same seed, same output
    for i in range(2):
        # every sample is x shifted by one integer s in [-3, 3], zeros shifted in
        matches = []
        for s in range(-3, 4):
            ref = np.zeros_like(x[i])
            if s >= 0:
                ref[s:] = x[i][:8 - s]
            else:
                ref[:s] = x[i][-s:]
            matches.append(np.array_equal(shifted[i], ref))
        assert sum(matches) == 1
    ones = np.ones((16, 10, 6, 3), np.float32)
    masked = audio.augment_features(ones, seed=(3, 4), time_masks=1, max_time_mask=4,
                                    freq_masks=1, max_freq_mask=2)
    for m in masked:
        zero_t = np.all(m == 0, axis=(1, 2))
        zero_f = np.all(m == 0, axis=(0, 2))
        assert zero_t.sum() <= 4 and zero_f.sum() <= 2
        if zero_t.any():  # one contiguous band
            idx = np.flatnonzero(zero_t)
            assert idx[-1] - idx[0] + 1 == len(idx)
        # outside the masks nothing changed
        np.testing.assert_array_equal(m[~zero_t][:, ~zero_f], 1.0)
    assert np.any(masked == 0)
    noisy = audio.augment_features(np.zeros((64, 20, 10, 3), np.float32), seed=(5, 6),
                                   noise_std=0.5)
    assert abs(noisy.std() - 0.5) < 0.02
    with pytest.raises(ValueError, match="max_shift"):
        audio.augment_features(x, seed=(0, 0), max_shift=-1)
    with pytest.raises(ValueError, match=r"\(N, T, F, C\)"):
        audio.augment_features(np.ones((3, 4), np.float32), seed=(0, 0))


def test_trim_silence_keeps_the_sound_and_its_frames():
    t = np.arange(1600) / 8000.0  # 0.2 s chirp 300 -> 1900 Hz (stationary tones standardise to 0)
    sound = np.sin(2 * np.pi * (300 * t + 4000 * t * t)).astype(np.float32)
    wave = np.concatenate([np.zeros(2000, np.float32), sound, np.zeros(4000, np.float32)])
    cut = audio.trim_silence(wave, top_db=40.0, frame_length=240, hop_length=80)
    # frames overlapping the sound start at most one frame before it and end one frame after
    assert 1600 <= len(cut) <= 1600 + 2 * 240
    np.testing.assert_array_equal(np.flatnonzero(cut)[[0, -1]] - np.flatnonzero(cut)[0],
                                  [0, 1599 - np.flatnonzero(sound)[0]])
    quiet = wave + 1e-4  # a floor 74 dB down is cut at 40 dB, kept at 80 dB
    assert len(audio.trim_silence(quiet, 40.0)) < 2200
    assert len(audio.trim_silence(quiet, 80.0)) == len(wave)
    # silent or shorter-than-one-frame input comes back unchanged
    assert len(audio.trim_silence(np.zeros(1000, np.float32))) == 1000
    assert len(audio.trim_silence(np.ones(100, np.float32))) == 100
    with pytest.raises(ValueError, match="top_db"):
        audio.trim_silence(wave, top_db=0)
    # the dataset option: with trimming, a recording in long silence keeps only the sound's
    # frames (18 for 1600 samples) plus at most two partial frames each side (window = 3 hops),
    # centred; without, the centre crop is 40 frames of mostly silence
    a = audio.features_array([sound], length=40, align="center", trim_db=40.0)
    b = audio.features_array([wave], length=40, align="center", trim_db=40.0)
    c = audio.features_array([wave], length=40, align="center")
    used = np.flatnonzero(np.abs(b[0]).sum(axis=(1, 2)) > 0)
    assert 18 <= len(used) <= 22 and used[-1] - used[0] + 1 == len(used)
    assert abs((used[0] + used[-1]) / 2 - 19.5) <= 1.5
    assert np.all(np.abs(c[0]).sum(axis=(1, 2)) > 0)
    assert np.abs(a - b).mean() < np.abs(a - c).mean() / 2
    with pytest.raises(ValueError, match="trim_db"):
        audio.audio_dataset([sound], trim_db=-1.0)


def test_same_numbers_as_the_tensorflow_signal_implementation():
    # the earlier implementation (tf.signal, float32): equal up to its float32 round-off
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(1)
    t = np.arange(6000) / 8000.0
    wave = (np.sin(2 * np.pi * (200 * t + 1500 * t * t)) * np.linspace(0.05, 1, 6000)
            + rng.normal(scale=0.01, size=6000)).astype(np.float32)
    stft = tf.signal.stft(wave, 240, 80, fft_length=256, window_fn=tf.signal.hann_window)
    mel = tf.signal.linear_to_mel_weight_matrix(40, 129, 8000, 20.0, 4000.0)
    expected = tf.math.log(tf.matmul(tf.abs(stft), mel) + 1e-6).numpy()
    got = audio.log_mel_spectrogram(wave)
    assert got.shape == expected.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-4)
    np.testing.assert_allclose(audio._mel_matrix(40, 129, 8000, 20.0, 4000.0), mel.numpy(),
                               atol=2e-5)
    frames = tf.signal.frame(wave[:5000], 240, 80, pad_end=True)
    energy = tf.reduce_mean(tf.square(frames), axis=-1).numpy()
    loud = np.flatnonzero(energy >= energy.max() * 1e-4)
    assert len(audio.trim_silence(wave[:5000], 40.0)) == min(loud[-1] * 80 + 240, 5000) \
        - loud[0] * 80


def test_dataset_memory_cache_length_labels_and_stale_file_cache(tmp_path):
    waves = [_tone(300, 0.1), _tone(600, 0.2), _tone(900, 0.15)]
    ds = audio.audio_dataset(waves, [7, 8, 9], length=12, cache="memory")
    assert len(ds) == 3 and len(audio.audio_dataset(waves, batch_size=2)) == 2
    first = list(ds)
    assert [int(label) for _, label in first] == [7, 8, 9]
    assert all(f.shape == (12, 40, 3) and f.dtype == np.float32 for f, _ in first)
    again = list(ds)
    for (a, _), (b, _) in zip(first, again):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(audio.features_array(waves, length=12),
                                  np.stack([f for f, _ in first]))
    path = str(tmp_path / "c")
    list(audio.audio_dataset(waves, length=12, cache=path))
    with pytest.raises(ValueError, match="different cache path"):
        list(audio.audio_dataset(waves[:2], length=12, cache=path))


def test_augment_seeds_streams_and_inputs():
    x = np.random.default_rng(0).normal(size=(4, 12, 6, 3)).astype(np.float32)
    opts = dict(max_shift=3, time_masks=1, max_time_mask=3)
    a = audio.augment_features(x, seed=7, **opts)
    np.testing.assert_array_equal(a, audio.augment_features(x, seed=7, **opts))
    assert not np.array_equal(a, audio.augment_features(x, seed=8, **opts))
    # each option has its own random stream: adding noise leaves shift and masks as they were
    noisy = audio.augment_features(x, seed=7, noise_std=0.1, **opts)
    np.testing.assert_array_equal(noisy == a, False)
    np.testing.assert_array_equal(np.abs(noisy - a) < 1.0, True)
    assert not np.shares_memory(audio.augment_features(x, seed=0), x)  # the input is kept
    with pytest.raises(TypeError, match="seed"):
        audio.augment_features(x, seed=1.5)
