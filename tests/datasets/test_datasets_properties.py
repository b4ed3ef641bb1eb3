"""Property-based tests: the IDX and event parsers on random and corrupted bytes.

Only the documented exceptions may escape: :class:`DatasetFormatError` (a ValueError) for bad
content. Valid inputs must round-trip exactly.
"""

import gzip
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spykeflow.datasets as ds
from spykeflow.datasets import EVENT_DTYPE, DatasetFormatError

from ._dataset_files import idx_bytes

FAST = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

_CODES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.int16, 0x0C: np.int32,
          0x0D: np.float32, 0x0E: np.float64}


@st.composite
def idx_arrays(draw):
    code = draw(st.sampled_from(sorted(_CODES)))
    shape = tuple(draw(st.lists(st.integers(0, 5), min_size=1, max_size=4)))
    n = int(np.prod(shape))
    raw = draw(st.binary(min_size=n * np.dtype(_CODES[code]).itemsize,
                         max_size=n * np.dtype(_CODES[code]).itemsize))
    arr = np.frombuffer(raw, dtype=np.dtype(_CODES[code]).newbyteorder(">")).reshape(shape)
    return code, arr


def _parse(data, **kw):
    try:
        return ds.read_idx(data, **kw)
    except DatasetFormatError as exc:
        assert "<bytes>" in str(exc)  # message names the source
        return None


@FAST
@given(st.binary(max_size=200))
def test_idx_random_bytes_only_format_errors(data):
    out = _parse(data)
    if out is not None:  # a random header that happens to be valid: sizes must agree
        assert len(data) == 4 + 4 * out.ndim + out.nbytes


@FAST
@given(st.binary(max_size=120))
def test_idx_random_gzip_payload(data):
    _parse(b"\x1f\x8b" + data)
    _parse(gzip.compress(data))


@FAST
@given(idx_arrays(), st.booleans())
def test_idx_round_trip(code_arr, compress):
    code, arr = code_arr
    data = idx_bytes(arr, code)
    if compress:
        data = gzip.compress(data)
    out = ds.read_idx(data)
    assert out.shape == arr.shape and out.dtype.isnative
    np.testing.assert_array_equal(out.view(out.dtype.newbyteorder("=")), arr.astype(out.dtype))
    assert out.flags.writeable


@FAST
@given(idx_arrays(), st.data())
def test_idx_corrupted(code_arr, data):
    code, arr = code_arr
    good = idx_bytes(arr, code)
    kind = data.draw(st.sampled_from(["truncate", "extend", "flip", "gzip-truncate", "gzip-flip"]))
    if kind == "truncate":
        cut = data.draw(st.integers(0, len(good) - 1))
        bad = good[:cut]
        with pytest.raises(DatasetFormatError):
            ds.read_idx(bad)
    elif kind == "extend":
        bad = good + data.draw(st.binary(min_size=1, max_size=10))
        with pytest.raises(DatasetFormatError, match="unexpected bytes"):
            ds.read_idx(bad)
    elif kind == "flip":
        pos = data.draw(st.integers(0, len(good) - 1))
        bad = bytearray(good)
        bad[pos] ^= data.draw(st.integers(1, 255))
        _parse(bytes(bad))  # header flips must be rejected cleanly, data flips may parse
    else:
        gz = gzip.compress(good)
        if kind == "gzip-truncate":
            bad = gz[: data.draw(st.integers(2, len(gz) - 1))]
            with pytest.raises(DatasetFormatError):
                ds.read_idx(bad)
        else:
            pos = data.draw(st.integers(0, len(gz) - 1))
            bad = bytearray(gz)
            bad[pos] ^= data.draw(st.integers(1, 255))
            _parse(bytes(bad))


@FAST
@given(st.integers(0, 0xFFFFFFFF), st.integers(0, 0xFFFFFFFF))
def test_idx_huge_header_never_allocates(n, m):
    header = bytes([0, 0, 0x0E, 2]) + struct.pack(">II", n, m)
    out = _parse(header + b"\x00" * 16)
    if out is not None:
        assert out.size * 8 == 16


def test_expect_magic_checked_before_content():
    data = idx_bytes(np.zeros(3, np.uint8))
    with pytest.raises(DatasetFormatError, match="wrong magic number 2049.*2051"):
        ds.read_idx(data, expect_magic=2051)


# ---------------------------------------------------------------------------------------------
# events

events_strategy = st.lists(
    st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 1),
              st.integers(0, (1 << 23) - 1)),
    min_size=1, max_size=60,
)


def _reference_encode(events):
    """Independent encoder: pack each event as one big-endian 40-bit integer."""
    out = b""
    for x, y, p, t in events:
        word = (x << 32) | (y << 24) | (p << 23) | t
        out += word.to_bytes(5, "big")
    return out


@FAST
@given(events_strategy)
def test_events_round_trip(events):
    data = _reference_encode(events)
    ev = ds.read_nmnist_events(data)
    assert ev.dtype == EVENT_DTYPE and len(ev) == len(events)
    assert list(zip(ev["x"].tolist(), ev["y"].tolist(), ev["p"].tolist(), ev["t"].tolist())) \
        == [tuple(e) for e in events]
    assert ds.encode_nmnist_events(ev) == data


@FAST
@given(st.binary(max_size=64))
def test_events_random_bytes(data):
    try:
        ev = ds.read_nmnist_events(data)
    except DatasetFormatError as exc:
        assert len(data) == 0 or len(data) % 5, "only empty/misaligned input may be rejected"
        assert "<bytes>" in str(exc)
        return
    assert len(ev) * 5 == len(data)
    assert ev["p"].max() <= 1 and ev["t"].max() < (1 << 23)
    assert ds.encode_nmnist_events(ev) == data  # every 5-byte word is representable


@FAST
@given(events_strategy, st.integers(1, 4))
def test_events_truncated(events, cut):
    data = _reference_encode(events)[:-cut]
    if not data:
        with pytest.raises(DatasetFormatError, match="empty"):
            ds.read_nmnist_events(data)
    else:
        with pytest.raises(DatasetFormatError, match="multiple of 5"):
            ds.read_nmnist_events(data)
