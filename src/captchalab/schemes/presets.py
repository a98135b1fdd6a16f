"""The seeds' configurations, registered as named presets."""

from __future__ import annotations

from captchalab.charset import Charset
from captchalab.schemes.base import Scheme
from captchalab.schemes.imagecaptcha import ImageCaptchaScheme
from captchalab.schemes.mix import MixScheme
from captchalab.schemes.registry import register_scheme
from captchalab.schemes.words import WordsScheme


@register_scheme("hku")
def hku() -> Scheme:
    """HKU report: python ``captcha`` 128x48, font size 40, lengths 4-6, 59 symbols (no 0/O/o)."""
    return ImageCaptchaScheme("hku", Charset.from_spec("@hku"), 4, 6, 128, 48, font_sizes=(40,))


@register_scheme("hku4")
def hku4() -> Scheme:
    """HKU report, fixed-length row: the ``hku`` look and 59 symbols, always 4 characters."""
    return ImageCaptchaScheme("hku4", Charset.from_spec("@hku"), 4, 4, 128, 48, font_sizes=(40,))


@register_scheme("alnum4")
def alnum4() -> Scheme:
    """advCAPTCHA's 4x62 setting: python ``captcha`` 128x48, 4 symbols of 0-9A-Za-z."""
    return ImageCaptchaScheme(
        "alnum4", Charset.from_spec("@alnum"), 4, 4, 128, 48, font_sizes=(40,)
    )


@register_scheme("digits5")
def digits5() -> Scheme:
    """Deep-CAPTCHA numeric: 5 digits, 160x60."""
    return ImageCaptchaScheme("digits5", Charset.from_spec("@digits"), 5, 5, 160, 60)


@register_scheme("alnum5")
def alnum5() -> Scheme:
    """Deep-CAPTCHA alphanumeric: 5 symbols from 0-9A-Z, 160x60."""
    return ImageCaptchaScheme("alnum5", Charset.from_spec("@alnum_upper"), 5, 5, 160, 60)


@register_scheme("words")
def words() -> Scheme:
    """Attention paper: lowercase English words of 3-8 letters, python ``captcha`` 100x50."""
    charset = Charset.from_spec("@lower")
    return WordsScheme("words", charset, 3, 8, 100, 50, font_sizes=(30, 34, 38))


@register_scheme("mix")
def mix() -> Scheme:
    """General model: case-sensitive 0-9A-Za-z, lengths 3-8, many looks, 80x30 to 250x100."""
    return MixScheme("mix", Charset.from_spec("@alnum"), 3, 8, 250, 100)


@register_scheme("broad")
def broad() -> Scheme:
    """Broad training mix: 0-9A-Za-z, lengths 3-8, 60x24 to 780x80 and 220x160, all fonts.

    Adds the fonts in the folders named by ``CAPTCHALAB_FONT_DIRS`` (``os.pathsep``-separated),
    which changes the samples and the scheme's fingerprint.
    """
    from captchalab.schemes.fonts import font_dirs_from_env
    from captchalab.schemes.mix_broad import BroadScheme

    charset = Charset.from_spec("@alnum")
    return BroadScheme("broad", charset, 3, 8, 780, 160, font_dirs=font_dirs_from_env())


@register_scheme("merged4")
def merged4() -> Scheme:
    """advCAPTCHA's deployed look, scaled down: 4 merged digits, no background noise, 120x40."""
    from captchalab.schemes.styled import StyledScheme
    from captchalab.schemes.styled_config import Style

    style = Style(font_size=(32, 40), rotation=15.0, warp=0.05, spacing=(-0.2, -0.05))
    return StyledScheme("merged4", Charset.from_spec("@digits"), 4, 4, 120, 40, style=style)
