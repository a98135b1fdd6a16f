"""How captchas are hardened: the frozen, YAML-able :class:`HardeningSettings`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

METHODS = ("mixture", "linf", "l0")
NAMED_MASKS = ("background", "glyph", "full")
MAX_LINF = 1.0
MAX_SMOOTH = 16.0


@dataclass(frozen=True)
class HardeningSettings:
    """The perturbation, its budgets and where it may go.

    ``linf`` is the L-inf budget on [0, 1] pixels and ``l0`` the number of pixels an L0
    perturbation may change; both are measured on the served 8-bit image. ``mask``:
    ``"background"`` (pixels away from the glyph ink), ``"glyph"`` (the ink and the pixels
    near it, the complement of ``"background"``; L0 changes still go in the background),
    ``"full"``, or an area fraction such as ``"0.25"`` (random rectangles covering that share
    of the image). ``masks``: the ``k``
    non-overlapping masks of the mixture method. ``steps``: iterative steps, each of
    ``alpha = eps / steps``. ``jpeg_quality``: also optimise the perturbation to survive a
    JPEG re-encode at this quality. ``smooth``: a Gaussian sigma in pixels applied to the
    L-inf gradient before its sign (translation-invariant steps; 0 = off). ``diversity``: the
    probability that an iterative step takes its gradient through a random shrink-and-shift of
    the substitute's input (input diversity; 0 = off).
    """

    method: str = "mixture"
    iterative: bool = True
    linf: float = 0.3
    l0: int = 100
    mask: str = "background"
    masks: int = 4
    steps: int = 10
    momentum: float = 0.0
    jpeg_quality: int | None = None
    smooth: float = 0.0
    diversity: float = 0.0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, not {self.method!r}")
        if not isinstance(self.iterative, bool):
            raise ValueError("iterative must be true or false")
        if not 0.0 <= float(self.linf) <= MAX_LINF:
            raise ValueError(f"linf must be in [0, 1] (a budget on [0, 1] pixels), got {self.linf}")
        if not isinstance(self.l0, int) or isinstance(self.l0, bool) or self.l0 < 0:
            raise ValueError(f"l0 must be a whole number of pixels >= 0, got {self.l0!r}")
        mask_ratio(self.mask)  # validates
        if self.method == "l0" and self.mask == "glyph":
            raise ValueError(
                "the glyph mask takes L-inf changes only: salt-and-pepper pixels on the glyphs "
                "hurt people (advCAPTCHA section 5.1); use method linf or mixture with it"
            )
        if not isinstance(self.masks, int) or not 1 <= self.masks <= 16:
            raise ValueError(f"masks must be a whole number from 1 to 16, got {self.masks!r}")
        if not isinstance(self.steps, int) or not 1 <= self.steps <= 1000:
            raise ValueError(f"steps must be a whole number from 1 to 1000, got {self.steps!r}")
        if not 0.0 <= float(self.momentum) <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {self.momentum}")
        if not 0.0 <= float(self.smooth) <= MAX_SMOOTH:
            raise ValueError(f"smooth must be a sigma in pixels from 0 to {MAX_SMOOTH:g}")
        if not 0.0 <= float(self.diversity) <= 1.0:
            raise ValueError(f"diversity must be a probability in [0, 1], got {self.diversity}")
        quality = self.jpeg_quality
        if quality is not None and (
            not isinstance(quality, int) or isinstance(quality, bool) or not 1 <= quality <= 100
        ):
            raise ValueError(f"jpeg_quality must be a whole number from 1 to 100, got {quality!r}")

    @property
    def effective_steps(self) -> int:
        """1 for the direct method, ``steps`` for the iterative one."""
        return self.steps if self.iterative else 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HardeningSettings:
        if not isinstance(data, dict):
            raise ValueError("hardening settings must be a mapping")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown hardening settings {unknown}; known: {sorted(known)}")
        values = dict(data)
        if "mask" in values and not isinstance(values["mask"], str):
            values["mask"] = str(values["mask"])  # YAML reads 0.25 as a number
        if "linf" in values:
            if isinstance(values["linf"], bool) or not isinstance(values["linf"], int | float):
                raise ValueError(f"linf must be a number, got {values['linf']!r}")
            values["linf"] = float(values["linf"])
        for name in ("momentum", "smooth", "diversity"):
            if name in values:
                if isinstance(values[name], bool) or not isinstance(values[name], int | float):
                    raise ValueError(f"{name} must be a number, got {values[name]!r}")
                values[name] = float(values[name])
        return cls(**values)


def mask_ratio(mask: str) -> float | None:
    """``None`` for a named mask, else the area fraction in (0, 1]; raises on anything else."""
    if mask in NAMED_MASKS:
        return None
    try:
        ratio = float(mask)
    except (TypeError, ValueError):
        raise ValueError(
            f"mask must be 'background', 'glyph', 'full' or an area fraction such as '0.25', "
            f"not {mask!r}"
        ) from None
    if not 0.0 < ratio <= 1.0:
        raise ValueError(f"mask area fraction must be in (0, 1], got {mask!r}")
    return ratio
