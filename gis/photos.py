"""Photos of appeals: checked by their content, stripped of metadata, stored by content hash.

- **Checking.** A file is accepted only when Pillow reads it as JPEG, PNG or WebP, whatever
  its name or declared type, at most `appeal_max_photo_bytes` large and at most
  `appeal_max_photo_pixels` in area (decompression bombs). Anything else is an InvalidInput
  naming the file.
- **Stripping.** What is stored is a clean copy: the EXIF block (camera, time, and above all
  the GPS position of the author's phone), XMP and text chunks are dropped; the picture is
  turned upright by its EXIF orientation first. A JPEG keeps its quantisation tables
  (`quality="keep"`) when it needs no turning, so it is not visibly re-compressed. The
  original with its metadata is never written anywhere (it is personal data we do not need).
- **GPS.** Before stripping, the EXIF GPS position is read (`Photo.gps`), so that intake can
  propose it as the appeal's place when the author gave none.
- **Storage.** `<data_dir>/photos/<sha256[:2]>/<sha256>.<ext>`, the hash being that of the
  stored (stripped) bytes: the same picture sent twice is stored once. Files are written
  atomically (a temporary file renamed into place).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from gis.errors import InvalidInput

# Pillow format → (content type, file extension).
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
EXTENSIONS = {ext: ctype for ctype, ext in FORMATS.values()}
GPS_IFD = 0x8825
ORIENTATION = 0x0112


@dataclass(frozen=True)
class Photo:
    """A checked, stripped photo, ready to be stored."""

    data: bytes  # the stripped copy: what is stored and served
    sha256: str
    content_type: str
    ext: str
    width: int
    height: int
    original_sha256: str  # of the bytes as received (for idempotency, never stored on disk)
    gps: tuple[float, float] | None = None  # (lon, lat) from EXIF, if the file had one

    @property
    def relpath(self) -> str:
        return f"{self.sha256[:2]}/{self.sha256}.{self.ext}"


def photos_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "photos"


def path_of(data_dir: Path, sha256: str, ext: str) -> Path:
    return photos_dir(data_dir) / sha256[:2] / f"{sha256}.{ext}"


def _rational(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        num, den = value
        return float(num) / float(den)


def _dms(values, ref: str | None, negative: str) -> float | None:
    try:
        d, m, s = (_rational(v) for v in values)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    out = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "ignore")
    return -out if (ref or "").strip().upper() == negative else out


def read_gps(image: Image.Image) -> tuple[float, float] | None:
    """(lon, lat) from the image's EXIF GPS tags, or None when absent or unreadable."""
    try:
        gps = image.getexif().get_ifd(GPS_IFD)
    except Exception:  # a broken EXIF block is no reason to refuse the photo
        return None
    if not gps or 2 not in gps or 4 not in gps:
        return None
    lat = _dms(gps[2], gps.get(1), "S")
    lon = _dms(gps[4], gps.get(3), "W")
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:
        return None
    return (round(lon, 7), round(lat, 7))


def _open(data: bytes, name: str, max_pixels: int) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                raise InvalidInput("photo_not_image", parameter="photos", name=name)
            if image.width * image.height > max_pixels:
                raise InvalidInput("photo_too_many_pixels", parameter="photos", name=name,
                                   width=image.width, height=image.height)  # fmt: skip
            image.verify()  # checks the file's structure; the image must be reopened after
            image = Image.open(io.BytesIO(data))
            image.load()
        except InvalidInput:
            raise
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
                Image.DecompressionBombError, Image.DecompressionBombWarning):  # fmt: skip
            raise InvalidInput("photo_not_image", parameter="photos", name=name) from None
    return image


def strip(image: Image.Image) -> bytes:
    """The image re-saved without EXIF, XMP or text metadata, turned upright."""
    fmt = image.format
    icc = image.info.get("icc_profile")
    image.info.pop("comment", None)  # a JPEG comment is re-written from info otherwise
    orientation = image.getexif().get(ORIENTATION, 1)
    out = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    if fmt == "JPEG":
        if orientation in (None, 1):
            image.save(out, "JPEG", quality="keep", optimize=False, **extra)
        else:
            upright = ImageOps.exif_transpose(image)
            upright.save(out, "JPEG", quality=90, **extra)
    else:
        upright = ImageOps.exif_transpose(image) if orientation not in (None, 1) else image
        if fmt == "PNG":
            upright.save(out, "PNG", optimize=False, **extra)
        else:
            lossless = bool(image.info.get("lossless"))
            upright.save(out, "WEBP", quality=90, lossless=lossless, **extra)
    return out.getvalue()


def check(data: bytes, name: str, *, max_bytes: int, max_pixels: int) -> Photo:
    """Check one uploaded file and make its clean copy; InvalidInput when it is not an
    accepted image or is too large."""
    if len(data) > max_bytes:
        raise InvalidInput("photo_too_large", parameter="photos", name=name, size=len(data),
                           max_mb=round(max_bytes / 1024 / 1024, 1))  # fmt: skip
    if not data:
        raise InvalidInput("photo_not_image", parameter="photos", name=name)
    image = _open(data, name, max_pixels)
    gps = read_gps(image)
    clean = strip(image)
    assert image.format is not None  # _open accepts only FORMATS
    content_type, ext = FORMATS[image.format]
    return Photo(
        data=clean, sha256=hashlib.sha256(clean).hexdigest(), content_type=content_type,
        ext=ext, width=image.width, height=image.height,
        original_sha256=hashlib.sha256(data).hexdigest(), gps=gps,
    )  # fmt: skip


def store(data_dir: Path, photo: Photo) -> Path | None:
    """Write the clean copy under its hash. Returns the path when this call created the file,
    None when it was already there (another appeal has the same picture)."""
    return write_once(path_of(data_dir, photo.sha256, photo.ext), photo.data)


def write_once(path: Path, data: bytes) -> Path | None:
    """`data` written atomically at `path` (a content-addressed name: a temporary file renamed
    into place). Returns the path when this call created the file, None when it was there."""
    if path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def find(data_dir: Path, sha256: str) -> tuple[Path, str] | None:
    """(path, content type) of a stored photo, or None."""
    folder = photos_dir(data_dir) / sha256[:2]
    for ext, ctype in EXTENSIONS.items():
        path = folder / f"{sha256}.{ext}"
        if path.exists():
            return path, ctype
    return None
