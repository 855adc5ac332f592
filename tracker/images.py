"""``log_image``: a numpy array or PIL image saved as an artifact of the active run.

Two forms, as in MLflow 3:
- ``log_image(image, "plots/sample.png")`` saves the image at that path;
- ``log_image(image, key="samples", step=3)`` saves it as
  ``images/<key, '/' as '~'>+step+<step>+timestamp+<ms>+<uuid>.png`` (plus a 256-pixel
  ``...+compressed.webp`` preview when Pillow is installed) and tags the run
  ``mlflow.loggedImages``, so MLflow's UI and ours show it as a series over steps.

Numpy arrays need no Pillow: they are written as PNG by ``encode_png`` (zlib, no filter).
"""
from __future__ import annotations

import re
import struct
import time
import uuid
import warnings
import zlib
from typing import Any

from . import artifacts, store

LOGGED_IMAGES_TAG = "mlflow.loggedImages"
COMPRESSED_IMAGE_SIZE = 256
_KEY = re.compile(r"^[a-zA-Z0-9_\-./ ]+$")
_PNG_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> gray, gray+alpha, RGB, RGBA


def to_uint8(image: Any) -> Any:
    """A numpy image as uint8 pixels (H x W or H x W x 1/3/4), by MLflow's rules: integers must
    lie in [0, 255]; floats and booleans in [0, 1] are scaled by 255, other floats min-max scaled."""
    import numpy as np
    image = np.asarray(image)
    if image.dtype.kind not in "biuf":
        raise TypeError(f"Invalid array data type: '{image.dtype}'. "
                        "Must be one of ['bool', 'signed integer', 'unsigned integer', 'floating']")
    if image.ndim not in (2, 3):
        raise ValueError(f"`image` must be a 2D or 3D array but got image shape: {image.shape}")
    if image.ndim == 3 and image.shape[2] not in (1, 3, 4):
        raise ValueError(f"Invalid channel length: {image.shape[2]}. Must be one of [1, 3, 4]")
    if image.size == 0:
        raise ValueError(f"`image` has no pixels (shape {image.shape})")
    if image.dtype.kind in "iu":
        if image.min() < 0 or image.max() > 255:
            raise ValueError("Integer pixel values out of acceptable range [0, 255]. "
                             f"Found minimum value {image.min()} and maximum value {image.max()}. "
                             "Ensure all pixel values are within the specified range.")
        return image.astype(np.uint8)
    image = image.astype(np.float64)
    if not np.isfinite(image).all():
        raise ValueError("Float pixel values must be finite (no NaN or infinity)")
    low, high = image.min(), image.max()
    if low < 0 or high > 1:
        warnings.warn(f"Float pixel values out of acceptable range [0.0, 1.0]. Found minimum value {low} and "
                      f"maximum value {high}. Rescaling values to [0.0, 1.0] with min/max scaler.", stacklevel=3)
        image = (image - low) / (high - low) if high > low else np.zeros_like(image)
    return (image * 255).astype(np.uint8)


def encode_png(pixels: Any) -> bytes:
    """PNG bytes of uint8 pixels shaped H x W or H x W x C (C = 1, 2, 3 or 4)."""
    import numpy as np
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    height, width, channels = pixels.shape
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)  # filter byte 0 (None) per row
    rows[:, 1:] = pixels.reshape(height, width * channels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOR_TYPES[channels], 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
            + chunk(b"IEND", b""))


def _is_pil(image: Any) -> bool:
    return all(callable(getattr(image, name, None)) for name in ("save", "resize")) and hasattr(image, "size")


def _image_bytes(image: Any, fmt: str) -> bytes:
    """``image`` encoded as ``fmt`` ('png', 'jpeg', 'webp', ...); numpy to PNG needs no Pillow."""
    import io
    if not _is_pil(image):
        if fmt == "png":
            return encode_png(to_uint8(image))
        try:
            image = _to_pil(image)
        except ImportError:
            raise ValueError(f"saving an image as {fmt!r} needs Pillow (pip install Pillow); "
                             "without it, use an artifact file ending in .png") from None
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG" if fmt == "jpg" else fmt.upper())
    return buffer.getvalue()


def _to_pil(array: Any) -> Any:
    from PIL import Image
    pixels = to_uint8(array)
    return Image.fromarray(pixels[:, :, 0] if pixels.ndim == 3 and pixels.shape[2] == 1 else pixels)


def _check_image(image: Any) -> None:
    import numpy as np
    if not isinstance(image, np.ndarray) and not _is_pil(image):
        raise TypeError(f"Unsupported image object type: {type(image)}. "
                        "`image` must be one of numpy.ndarray and PIL.Image.Image.")


def _compressed(image: Any) -> bytes | None:
    """MLflow's preview: the image scaled to fit 256 x 256, as WebP; None without Pillow."""
    try:
        image = image if _is_pil(image) else _to_pil(image)
    except ImportError:
        return None
    width, height = image.size
    if width > height:
        size = (COMPRESSED_IMAGE_SIZE, max(1, int(height * COMPRESSED_IMAGE_SIZE / width)))
    else:
        size = (max(1, int(width * COMPRESSED_IMAGE_SIZE / height)), COMPRESSED_IMAGE_SIZE)
    try:
        return _image_bytes(image.resize(size), "webp")
    except (OSError, KeyError, ValueError):  # a Pillow built without WebP
        return None


def log_image(image: Any, artifact_file: str | None = None, key: str | None = None, step: int | None = None,
              timestamp: int | None = None, synchronous: bool | None = None) -> None:
    """Log ``image`` to the active run (started when none is), as MLflow's ``log_image``."""
    if artifact_file is not None and any(arg is not None for arg in (key, step, timestamp)):
        raise TypeError("The `artifact_file` parameter cannot be used in conjunction with `key`, `step`, or "
                        "`timestamp` parameters. Please ensure that `artifact_file` is specified alone, "
                        "without any of these conflicting parameters.")
    if artifact_file is None and key is None:
        raise TypeError("Invalid arguments: Please specify exactly one of `artifact_file` or `key`. Use `key` "
                        "to log dynamic image charts or `artifact_file` for saving static images.")
    _check_image(image)
    if key is not None and (not isinstance(key, str) or not _KEY.match(key)):
        raise ValueError("The `key` parameter may only contain alphanumerics, underscores (_), dashes (-), "
                         f"periods (.), spaces ( ), and slashes (/).The provided key `{key}` contains "
                         "invalid characters.")
    if artifact_file is not None:
        fmt = artifact_file.rsplit(".", 1)[-1].lower() if "." in artifact_file.rsplit("/", 1)[-1] else "png"
        data = _image_bytes(image, fmt)  # encode before a run is started or a file written
        writer = _writer()
        folder = writer.path / store.ARTIFACTS_DIR
        artifacts._write_bytes_atomic(artifacts.artifact_file(folder, artifact_file), data, folder)
        return
    step = int(step or 0)
    timestamp = int(timestamp or time.time() * 1000)
    data, preview = _image_bytes(image, "png"), _compressed(image)
    writer = _writer()
    folder = writer.path / store.ARTIFACTS_DIR
    stem = f"images/{key.replace('/', '~')}+step+{step}+timestamp+{timestamp}+{uuid.uuid4()}"
    artifacts._write_bytes_atomic(artifacts.artifact_file(folder, stem + ".png"), data, folder)
    if preview is not None:
        artifacts._write_bytes_atomic(artifacts.artifact_file(folder, stem + "+compressed.webp"), preview, folder)
    writer.set_tags({LOGGED_IMAGES_TAG: "True"})


def _writer() -> Any:
    from . import fluent
    return fluent._current()
