"""The ``broad`` scheme: ``mix`` widened to tiny, wide and tall canvases, the ``hard`` family
(:mod:`captchalab.schemes.mix_hard`) and every shipped font.

Each sample draws a canvas class, then a size in it:

* ``small`` (15%): 60x24 to 130x40;
* ``normal`` (45%): ``mix``-like, 80x30 to 250x100, width growing with the text;
* ``wide`` (25%): 300-780 px wide and 50-100 px tall;
* ``tall`` (15%): 100-220 px wide and 100-160 px tall (a small word in the middle).

and a family: ``word`` 0.3, ``styled`` 0.15, ``hard`` 0.4 and ``crowded`` 0.15
(:mod:`captchalab.schemes.mix_crowded`; :data:`BROAD_FAMILY_WEIGHTS`).
``broad`` is what the shipped default model trains on, so it draws only with captchalab's own
renderers: ``mix``'s ``imagecaptcha`` family (the third-party python ``captcha`` library) has
weight 0, and that generator stays an evaluation set (the seed presets, ``mix``).

Fonts are all of :func:`~captchalab.schemes.fonts.broad_fonts` plus, when ``font_dirs`` is
given (the ``broad`` preset reads ``CAPTCHALAB_FONT_DIRS``), every font in those folders that
draws all of 0-9A-Za-z. Extra fonts change the samples; they are part of the scheme's
``fonts`` field, so :meth:`~captchalab.schemes.base.Scheme.fingerprint` (the cache key)
covers them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import ClassVar

from captchalab.schemes.fonts import broad_fonts, fonts_from_dirs, with_extra_fonts
from captchalab.schemes.mix import MixScheme

# word, imagecaptcha (never: a third-party generator), styled, hard, crowded
BROAD_FAMILY_WEIGHTS = (0.3, 0.0, 0.15, 0.4, 0.15)
SIZE_CLASSES = ("small", "normal", "wide", "tall")
SIZE_CLASS_WEIGHTS = (0.15, 0.45, 0.25, 0.15)


@dataclass(frozen=True)
class BroadScheme(MixScheme):
    """``width`` x ``height`` bound every canvas (780x160 for the preset)."""

    RENDERER_VERSION: ClassVar[int] = 6  # 2: own renderers only, line tails; 3: crowded;
    # 4: crowded glyphs stretched to one height, and gaps between them; 5: crowded lines
    # squeezed sideways to fit the canvas; 6: hard's thin glyphs thinned from any face,
    # hooked lines in crowded, line hooks that may start at the text and rise steeply

    min_width: int = 60
    min_height: int = 24
    family_weights: tuple[float, ...] = BROAD_FAMILY_WEIGHTS
    fonts: tuple[str, ...] = field(default_factory=broad_fonts)
    font_dirs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.font_dirs:
            extra = fonts_from_dirs(self.font_dirs)
            object.__setattr__(self, "fonts", with_extra_fonts(self.fonts, extra))

    def pick_size(self, length: int, rng: random.Random) -> tuple[int, int]:
        kind = rng.choices(SIZE_CLASSES, SIZE_CLASS_WEIGHTS)[0]
        if kind == "small":
            width, height = rng.randint(60, 130), rng.randint(24, 40)
        elif kind == "wide":
            width, height = rng.randint(300, 780), rng.randint(50, 100)
        elif kind == "tall":
            width, height = rng.randint(100, 220), rng.randint(100, 160)
        else:
            height = round(rng.triangular(30, 100, 45))
            width = round(height * (length * rng.uniform(0.35, 0.75) + rng.uniform(0.1, 0.5)))
            width = max(80, min(250, width))
        return (
            max(self.min_width, min(self.width, width)),
            max(self.min_height, min(self.height, height)),
        )
