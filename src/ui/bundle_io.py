"""Evidence bundles on disk: a folder or a zip of the files `app.evidence_bundle` makes."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

# A fixed date for every zip entry: the same bundle always zips to the same bytes.
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def bundle_zip(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            archive.writestr(zipfile.ZipInfo(name, _ZIP_TIME), files[name])
    return buffer.getvalue()


def write_bundle(files: Mapping[str, bytes], target: Path) -> Path:
    """A `.zip` target gets a zip; anything else a folder (created, must be empty)."""
    if target.suffix == ".zip":
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(bundle_zip(files))
        return target
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise ValueError(f"{target} is not empty: name a new folder or a .zip")
    for name, content in files.items():
        (target / name).write_bytes(content)
    return target


def read_bundle(source: Path) -> dict[str, bytes]:
    """The files of a bundle folder or zip, by name."""
    if source.is_dir():
        return {p.name: p.read_bytes() for p in sorted(source.iterdir()) if p.is_file()}
    if not source.exists():
        raise ValueError(f"no bundle at {source}")
    try:
        with zipfile.ZipFile(source) as archive:
            return {name: archive.read(name) for name in archive.namelist()}
    except zipfile.BadZipFile:
        raise ValueError(f"{source} is neither a bundle folder nor a zip") from None
