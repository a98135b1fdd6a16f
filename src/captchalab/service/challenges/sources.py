"""Where challenge images come from: a scheme rendered (and optionally hardened) on the fly,
or a labelled folder prepared beforehand (``captchalab harden`` / ``generate`` output).

Rendering draws every text and image from a fresh 128-bit secret seed, so no challenge can be
predicted from another. A folder is served in a secretly shuffled order, each image once per
pass (per worker process); it needs no torch even when its images are hardened, but it repeats
once the pass ends, so it should hold many more images than are answered between refreshes.
"""

from __future__ import annotations

import csv
import io
import random
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PIL import Image

from captchalab.schemes import Scheme, get_scheme
from captchalab.schemes.generate import LABELS_FILE
from captchalab.service.challenges.config import ChallengeConfig, ChallengeConfigError
from captchalab.service.challenges.hardening import HardenFn, load_hardener


@dataclass(frozen=True)
class Captcha:
    png: bytes
    text: str


class ImageSource(Protocol):
    scheme: Scheme
    batch_size: int

    def open(self) -> None:
        """Load what producing needs (models, files); raises ``ChallengeConfigError``."""

    def produce(self, count: int) -> list[Captcha]:
        """``count`` new captchas (called from a worker thread)."""


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


class RenderSource:
    """The scheme rendered with secret seeds; hardened in batches when ``harden`` is given."""

    def __init__(self, config: ChallengeConfig, scheme: Scheme) -> None:
        self.config = config
        self.scheme = scheme
        self.batch_size = config.hardening.batch_size if config.hardening else 8
        self._harden: HardenFn | None = None

    def open(self) -> None:
        if self.config.hardening is not None:
            self._harden = load_hardener(self.config.hardening)

    def produce(self, count: int) -> list[Captcha]:
        samples = [self.scheme.sample(random.Random(secrets.randbits(128))) for _ in range(count)]
        images = [image for image, _ in samples]
        texts = [text for _, text in samples]
        if self._harden is not None:
            images = self._harden(images, texts)
        return [Captcha(encode_png(image), text) for image, text in zip(images, texts, strict=True)]


class FolderSource:
    """A labelled folder (``labels.csv`` + images), served as stored, in secret random order."""

    def __init__(self, config: ChallengeConfig, scheme: Scheme) -> None:
        assert config.folder is not None
        self.folder = Path(config.folder)
        self.scheme = scheme
        self.batch_size = 64
        self._items: list[tuple[Path, str]] = []
        self._order: list[int] = []
        self._lock = threading.Lock()
        self._random = random.SystemRandom()

    def open(self) -> None:
        self._items = read_labelled_folder(self.folder, self.scheme)

    def produce(self, count: int) -> list[Captcha]:
        out = []
        for _ in range(count):
            path, text = self._items[self._next_index()]
            out.append(Captcha(_png_bytes(path), text))
        return out

    def _next_index(self) -> int:
        with self._lock:
            if not self._order:
                self._order = list(range(len(self._items)))
                self._random.shuffle(self._order)
            return self._order.pop()


def read_labelled_folder(folder: Path, scheme: Scheme) -> list[tuple[Path, str]]:
    """(image path, label) rows of ``folder/labels.csv``, checked against ``scheme``."""
    labels = folder / LABELS_FILE
    if not labels.is_file():
        raise ChallengeConfigError(f"folder {folder} has no {LABELS_FILE}")
    items: list[tuple[Path, str]] = []
    with labels.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != ["filename", "label"]:
            raise ChallengeConfigError(f"{labels}: the header must be filename,label")
        for line, row in enumerate(reader, start=2):
            if len(row) != 2 or not row[0] or not row[1]:
                raise ChallengeConfigError(f"{labels}:{line}: expected filename,label")
            path = folder / row[0]
            if not path.is_file():
                raise ChallengeConfigError(f"{labels}:{line}: {row[0]} does not exist")
            try:
                text = scheme.charset.validate(row[1], where=f"{labels}:{line}")
            except ValueError as exc:
                raise ChallengeConfigError(str(exc)) from None
            items.append((path, text))
    if not items:
        raise ChallengeConfigError(f"{labels} lists no images")
    return items


def _png_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data
    with Image.open(io.BytesIO(data)) as image:  # another format: served as PNG
        return encode_png(image)


def build_source(config: ChallengeConfig) -> ImageSource:
    scheme = get_scheme(config.scheme)
    if config.source == "folder":
        return FolderSource(config, scheme)
    return RenderSource(config, scheme)
