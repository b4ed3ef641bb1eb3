"""Download MNIST, Fashion-MNIST and EMNIST Balanced into the data root (the only writer here).

Every file is fetched with :mod:`urllib` into ``<file>.part``; an existing ``.part`` is resumed
with an HTTP ``Range`` request (a server that ignores the range makes the download restart).
The finished file is checked against its published checksum and only then renamed into place
with :func:`os.replace`, so the data folder never holds a half-written dataset file. A checksum
mismatch deletes the ``.part`` file and raises :class:`ChecksumError`.

Sources: MNIST from the mirror used by torchvision (``ossci-datasets.s3.amazonaws.com/mnist``;
the original yann.lecun.com site is unreliable), Fashion-MNIST from Zalando's Amazon bucket, and
EMNIST from NIST's ``gzip.zip`` archive (about 536 MB), from which only the Balanced files and
the mapping are extracted (the archive is deleted afterwards unless ``keep_archive=True``).
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import pathlib
import re
import shutil
import urllib.error
import urllib.request
import zipfile
from typing import TypedDict

from .._validation import check_bool, check_float
from .._version import __version__
from ..io import atomic_path
from ._common import ALIASES, DatasetFormatError, PathLike, canonical_name, data_root
from .idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx

logger = logging.getLogger("spykeflow.datasets")

__all__ = ["download", "fetch", "ChecksumError", "DownloadError", "SOURCES"]

_CHUNK = 1 << 20


class ChecksumError(DatasetFormatError):
    """A downloaded file does not have its published checksum (the ``.part`` file is deleted)."""

    __module__ = "spykeflow.datasets"


class DownloadError(OSError):
    """The server could not be reached or answered with an error; ``.part`` data are kept."""

    __module__ = "spykeflow.datasets"


#: A published checksum: ``("md5" | "sha256", hex digest)``.
Checksum = tuple[str, str]


class DownloadSource(TypedDict, total=False):
    """Where a dataset is downloaded from."""

    folder: str  # folder under the data root
    base_url: str  # the file names are appended to it
    files: dict[str, Checksum]  # file name -> checksum
    extract: tuple[str, ...]  # members taken out of a single archive (EMNIST)


#: Per dataset: folder, base URL and {file name: ("md5" | "sha256", hex digest)}.
SOURCES: dict[str, DownloadSource] = {
    "mnist": {
        "folder": "mnist",
        "base_url": "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "files": {
            "train-images-idx3-ubyte.gz": ("md5", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
            "train-labels-idx1-ubyte.gz": ("md5", "d53e105ee54ea40749a09fcbcd1e9432"),
            "t10k-images-idx3-ubyte.gz": ("md5", "9fb629c4189551a2d022fa330f9573f3"),
            "t10k-labels-idx1-ubyte.gz": ("md5", "ec29112dd5afa0611ce80d1b7f02629c"),
        },
    },
    "fashion_mnist": {
        "folder": "fashion_mnist",
        "base_url": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "files": {
            "train-images-idx3-ubyte.gz": ("md5", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
            "train-labels-idx1-ubyte.gz": ("md5", "25c81989df183df01b3e8a0aad5dffbe"),
            "t10k-images-idx3-ubyte.gz": ("md5", "bef4ecab320f06d8554ea6380940ec79"),
            "t10k-labels-idx1-ubyte.gz": ("md5", "bb300cfdad3c16e7a12a480ee83cd310"),
        },
    },
    "emnist_balanced": {
        "folder": "emnist_balanced",
        "base_url": "https://biometrics.nist.gov/cs_links/EMNIST/",
        "files": {"gzip.zip": ("md5", "58c8d27c78d21e728a6bc7b3cc06412e")},
        "extract": (
            "emnist-balanced-train-images-idx3-ubyte.gz",
            "emnist-balanced-train-labels-idx1-ubyte.gz",
            "emnist-balanced-test-images-idx3-ubyte.gz",
            "emnist-balanced-test-labels-idx1-ubyte.gz",
            "emnist-balanced-mapping.txt",
        ),
    },
}


def file_digest(path: PathLike, algorithm: str = "md5") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _matches(path: PathLike, checksum: Checksum) -> bool:
    algorithm, expected = checksum
    return file_digest(path, algorithm) == expected.lower()


def fetch(url: str, dest: PathLike, checksum: Checksum, progress: bool = True,
          timeout: float = 60.0) -> pathlib.Path:
    """Download ``url`` to ``dest`` via ``dest.part`` (resumable), verify, rename into place.

    Parameters
    ----------
    url : str
    dest : path
        Final file; left untouched unless the new content has the right checksum.
    checksum : (str, str)
        ``("md5" | "sha256", hex digest)``.
    progress : bool
        Show a tqdm progress bar.
    timeout : float
        Socket timeout in seconds.

    Raises
    ------
    ChecksumError
        The downloaded data do not match ``checksum`` (the ``.part`` file is deleted).
    DownloadError
        Network or HTTP failure (the ``.part`` file is kept for a later resume).
    """
    from tqdm.auto import tqdm

    progress = check_bool(progress, "progress")
    timeout = check_float(timeout, "timeout", low=0, low_open=True)
    dest = pathlib.Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": f"spykeflow/{__version__} (urllib)"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
        logger.info("Resuming %s at byte %d", url, offset)
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # range not satisfiable: .part already complete
            response = None
        else:
            raise DownloadError(
                f"Downloading {url} failed: HTTP {exc.code} {exc.reason}."
            ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(
            f"Downloading {url} failed: {reason}. Check the connection (or pass base_url= for "
            f"a mirror) and call download again; {part.name} is resumed if present."
        ) from None
    if response is not None:
        with response:
            status = getattr(response, "status", 200)
            mode = "ab"
            if offset and status != 206:
                logger.info("Server ignored the Range request for %s; restarting", url)
                offset, mode = 0, "wb"
            elif offset:
                start = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
                if start is None or int(start[1]) != offset:
                    logger.info("Unexpected Content-Range for %s; restarting", url)
                    offset, mode = 0, "wb"
                    response.close()
                    part.unlink(missing_ok=True)
                    return fetch(url, dest, checksum, progress=progress, timeout=timeout)
            length = response.headers.get("Content-Length")
            total = offset + int(length) if length is not None else None
            try:
                with open(part, mode) as fh, tqdm(
                    total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024,
                    desc=dest.name, disable=not progress, leave=False,
                ) as bar:
                    for chunk in iter(lambda: response.read(_CHUNK), b""):
                        fh.write(chunk)
                        bar.update(len(chunk))
                    fh.flush()
                    os.fsync(fh.fileno())
            except (OSError, http.client.HTTPException) as exc:
                raise DownloadError(
                    f"Downloading {url} was interrupted ({exc}); {part} keeps the "
                    "bytes received so far and the next call resumes from there."
                ) from None
    if not _matches(part, checksum):
        got = file_digest(part, checksum[0])
        part.unlink()
        raise ChecksumError(
            f"{dest.name} from {url}: {checksum[0]} checksum mismatch (expected {checksum[1]}, "
            f"got {got}). The partial file was deleted; retry, or check the mirror."
        )
    os.replace(part, dest)
    logger.info("Downloaded %s", dest)
    return dest


def download(name: str, root: PathLike | None = None, base_url: str | None = None,
             progress: bool = True, keep_archive: bool = False,
             timeout: float = 60.0) -> pathlib.Path:
    """Download a dataset into ``<root>/<folder>/`` and return that folder.

    Files that are already present with the right checksum are not fetched again.

    Parameters
    ----------
    name : {"mnist", "fashion_mnist", "emnist_balanced"} (aliases "fashion", "emnist")
    root : path, optional
        Data root (:func:`spykeflow.datasets.data_root`); created if needed.
    base_url : str, optional
        Server to use instead of the official one (mirrors, tests); file names are appended.
    progress : bool
        tqdm progress bars.
    keep_archive : bool
        EMNIST only: keep ``gzip.zip`` (536 MB) after extracting the Balanced files.
    timeout : float
        Socket timeout in seconds.

    Returns
    -------
    pathlib.Path
        The dataset folder, ready for :func:`spykeflow.datasets.load`.

    Raises
    ------
    ValueError
        ``name`` cannot be downloaded (the message lists those that can).
    ChecksumError, DownloadError
        See ``fetch``.
    """
    key = canonical_name(name)
    if key not in SOURCES:
        downloadable_aliases = sorted(a for a, c in ALIASES.items() if c in SOURCES)
        raise ValueError(
            f"Expected a downloadable dataset name, one of {sorted(SOURCES)} (aliases "
            f"{downloadable_aliases}). Received: name={name!r}. The other datasets have to be "
            "placed in the data root by hand (see spykeflow.datasets.load's error message)."
        )
    progress = check_bool(progress, "progress")
    keep_archive = check_bool(keep_archive, "keep_archive")
    source = SOURCES[key]
    folder = data_root(root) / source["folder"]
    base = (base_url or source["base_url"]).rstrip("/") + "/"
    if key == "emnist_balanced":
        _download_emnist(source, folder, base, progress, keep_archive, timeout)
        return folder
    for filename, checksum in source["files"].items():
        dest = folder / filename
        if dest.is_file() and _matches(dest, checksum):
            logger.info("%s already present and verified", dest)
            continue
        fetch(base + filename, dest, checksum, progress=progress, timeout=timeout)
    return folder


def _download_emnist(source: DownloadSource, folder: pathlib.Path, base: str, progress: bool,
                     keep_archive: bool, timeout: float) -> None:
    wanted = source["extract"]
    if all((folder / n).is_file() for n in wanted):
        logger.info("EMNIST Balanced already present in %s", folder)
        return
    (filename, checksum), = source["files"].items()
    archive = folder / filename
    if not (archive.is_file() and _matches(archive, checksum)):
        fetch(base + filename, archive, checksum, progress=progress, timeout=timeout)
    try:
        with zipfile.ZipFile(archive) as zf:
            members = {pathlib.PurePosixPath(m).name: m for m in zf.namelist()}
            missing = [n for n in wanted if n not in members]
            if missing:
                raise DatasetFormatError(f"{archive}: the archive lacks {missing}.")
            for n in wanted:
                with zf.open(members[n]) as src, atomic_path(folder / n) as tmp:
                    with open(tmp, "wb") as dst:
                        shutil.copyfileobj(src, dst, _CHUNK)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DatasetFormatError(f"{archive}: cannot extract ({exc}).") from None
    for split in ("train", "test"):  # sanity check of what was extracted
        read_idx(folder / f"emnist-balanced-{split}-images-idx3-ubyte.gz", IMAGES_MAGIC)
        read_idx(folder / f"emnist-balanced-{split}-labels-idx1-ubyte.gz", LABELS_MAGIC)
    if not keep_archive:
        archive.unlink()
