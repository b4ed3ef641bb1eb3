"""download(): round trip against a local HTTP server on 127.0.0.1 (no internet needed)."""

import gzip
import hashlib
import http.server
import io
import pathlib
import threading
import zipfile

import numpy as np
import pytest

import spykeflow.datasets as ds
from spykeflow.datasets import remote as dl

from ._dataset_files import idx_bytes


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves files of ``server.directory``; honours ``Range: bytes=N-`` unless told not to."""

    def do_GET(self):  # noqa: N802 (http.server API)
        srv = self.server
        srv.requests.append((self.path, self.headers.get("Range")))
        path = pathlib.Path(srv.directory) / self.path.lstrip("/")
        if not path.is_file():
            self.send_error(404, "not found")
            return
        data = path.read_bytes()
        rng = self.headers.get("Range")
        if rng and srv.honour_range:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            body = data[start:]
        else:
            self.send_response(200)
            body = data
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def server(tmp_path):
    directory = tmp_path / "www"
    directory.mkdir()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.directory = directory
    srv.honour_range = True
    srv.requests = []
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/"
    yield srv
    srv.shutdown()
    srv.server_close()


def _tiny_mnist(directory, monkeypatch, n=6):
    """Write four tiny gz IDX files into ``directory`` and patch their md5s into SOURCES."""
    rng = np.random.default_rng(3)
    files = {}
    for split, count in (("train", n), ("t10k", 2)):
        x = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, count, dtype=np.uint8)
        files[f"{split}-images-idx3-ubyte.gz"] = gzip.compress(idx_bytes(x))
        files[f"{split}-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(y))
    table = {}
    for name, data in files.items():
        (directory / name).write_bytes(data)
        table[name] = ("md5", hashlib.md5(data).hexdigest())
    monkeypatch.setitem(dl.SOURCES, "mnist", dict(dl.SOURCES["mnist"], files=table))
    return files


def test_round_trip_tiny(server, tmp_path, monkeypatch):
    files = _tiny_mnist(server.directory, monkeypatch)
    root = tmp_path / "data"
    folder = ds.download("mnist", root=root, base_url=server.url, progress=False)
    assert folder == root / "mnist"
    for name, data in files.items():
        assert (folder / name).read_bytes() == data
    assert not list(folder.glob("*.part")) and not list(folder.glob(".*tmp"))
    x, y = ds.load("mnist", root=root)
    assert x.shape == (6, 28, 28)
    # second call: everything verified, nothing fetched again
    n_requests = len(server.requests)
    ds.download("mnist", root=root, base_url=server.url, progress=False)
    assert len(server.requests) == n_requests


def test_resume_from_part_uses_range(server, tmp_path, monkeypatch):
    files = _tiny_mnist(server.directory, monkeypatch)
    name = "train-images-idx3-ubyte.gz"
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    half = len(files[name]) // 2
    (folder / (name + ".part")).write_bytes(files[name][:half])
    ds.download("mnist", root=tmp_path / "data", base_url=server.url, progress=True)
    assert (folder / name).read_bytes() == files[name]
    assert ("/" + name, f"bytes={half}-") in server.requests
    assert not (folder / (name + ".part")).exists()


def test_resume_when_server_ignores_range(server, tmp_path, monkeypatch):
    files = _tiny_mnist(server.directory, monkeypatch)
    server.honour_range = False
    name = "t10k-labels-idx1-ubyte.gz"
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    (folder / (name + ".part")).write_bytes(b"garbage-prefix")
    ds.download("mnist", root=tmp_path / "data", base_url=server.url, progress=False)
    assert (folder / name).read_bytes() == files[name]  # restarted from byte 0


def test_complete_part_and_416(server, tmp_path, monkeypatch):
    files = _tiny_mnist(server.directory, monkeypatch)
    name = "t10k-labels-idx1-ubyte.gz"
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    (folder / (name + ".part")).write_bytes(files[name])  # fully downloaded, not yet renamed
    ds.download("mnist", root=tmp_path / "data", base_url=server.url, progress=False)
    assert (folder / name).read_bytes() == files[name]


def test_checksum_mismatch_deletes_part_and_keeps_old_file(server, tmp_path, monkeypatch):
    _tiny_mnist(server.directory, monkeypatch)
    name = "train-labels-idx1-ubyte.gz"
    table = dict(dl.SOURCES["mnist"]["files"])
    table[name] = ("md5", "0" * 32)
    monkeypatch.setitem(dl.SOURCES, "mnist", dict(dl.SOURCES["mnist"], files=table))
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(b"old")
    with pytest.raises(ds.ChecksumError, match=rf"{name}.*md5 checksum mismatch.*expected 0000"):
        ds.download("mnist", root=tmp_path / "data", base_url=server.url, progress=False)
    assert not (folder / (name + ".part")).exists()
    assert (folder / name).read_bytes() == b"old"
    assert isinstance(ds.ChecksumError("x"), ValueError)


def test_http_error_and_unreachable(server, tmp_path, monkeypatch):
    _tiny_mnist(server.directory, monkeypatch)
    (server.directory / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(ds.DownloadError, match="HTTP 404"):
        ds.download("mnist", root=tmp_path / "d", base_url=server.url, progress=False)
    with pytest.raises(ds.DownloadError, match="failed"):
        ds.download("mnist", root=tmp_path / "e", base_url="http://127.0.0.1:9/",
                    progress=False, timeout=2)


def test_download_unknown_name():
    with pytest.raises(ValueError,
                       match=r"emnist_balanced.*fashion_mnist.*mnist.*Received: name='soli'"):
        ds.download("soli")
    with pytest.raises(ValueError,
                       match=r"aliases \['emnist', 'fashion'\]\)\. Received: name='facebike'"):
        ds.download("facebike")


def test_download_checks_its_options(tmp_path):
    with pytest.raises(TypeError, match="progress to be a bool"):
        ds.download("mnist", root=tmp_path, progress="no")
    with pytest.raises(TypeError, match="keep_archive to be a bool"):
        ds.download("mnist", root=tmp_path, keep_archive=1)
    with pytest.raises(ValueError, match="timeout > 0"):
        dl.fetch("http://127.0.0.1:9/x", tmp_path / "x", ("md5", "0" * 32), timeout=0)
    assert not any(tmp_path.iterdir())                  # nothing written before the checks


def test_emnist_archive_extraction(server, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    members = {}
    with zipfile.ZipFile(buf, "w") as zf:
        for split, n in (("train", 5), ("test", 3)):
            members[f"emnist-balanced-{split}-images-idx3-ubyte.gz"] = gzip.compress(
                idx_bytes(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)))
            members[f"emnist-balanced-{split}-labels-idx1-ubyte.gz"] = gzip.compress(
                idx_bytes(rng.integers(0, 47, n, dtype=np.uint8)))
        chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt"
        members["emnist-balanced-mapping.txt"] = "".join(
            f"{i} {ord(c)}\r\n" for i, c in enumerate(chars)).encode()
        for name, data in members.items():
            zf.writestr(f"gzip/{name}", data)
        zf.writestr("gzip/emnist-letters-train-images-idx3-ubyte.gz", b"not extracted")
    archive = buf.getvalue()
    (server.directory / "gzip.zip").write_bytes(archive)
    checksum = ("md5", hashlib.md5(archive).hexdigest())
    monkeypatch.setitem(dl.SOURCES, "emnist_balanced", dict(
        dl.SOURCES["emnist_balanced"], files={"gzip.zip": checksum}))
    folder = ds.download("emnist", root=tmp_path / "data", base_url=server.url, progress=False)
    assert sorted(p.name for p in folder.iterdir()) == sorted(members)  # archive removed
    x, y = ds.load("emnist", "test", root=tmp_path / "data")
    assert x.shape == (3, 28, 28)
    assert len(ds.emnist_mapping(root=tmp_path / "data")) == 47


@pytest.mark.realdata
def test_round_trip_real_mnist_checksums(server, data_root, tmp_path):
    """Serve the real MNIST files: the published checksums in SOURCES must accept them."""
    server.directory = data_root / "mnist"
    folder = ds.download("mnist", root=tmp_path, base_url=server.url, progress=False)
    x, y = ds.load("mnist", "test", root=tmp_path)
    assert x.shape == (10000, 28, 28) and np.bincount(y)[1] == 1135
    for name in dl.SOURCES["mnist"]["files"]:
        assert (folder / name).read_bytes() == (data_root / "mnist" / name).read_bytes()


@pytest.mark.realdata
def test_fashion_checksums_match_real_files(data_root):
    for name, (algo, digest) in dl.SOURCES["fashion_mnist"]["files"].items():
        assert dl.file_digest(data_root / "fashion_mnist" / name, algo) == digest
