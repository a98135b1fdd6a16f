"""A side-by-side gallery of ordinary and hardened captchas: one PNG sheet and an HTML page
that embeds each pair (self-contained, no external files)."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from captchalab.adversarial.usability import psnr, ssim

SCALE = 2


@dataclass(frozen=True)
class GalleryRow:
    """One setting: its label, the ordinary captchas and their hardened versions."""

    label: str
    ordinary: Sequence[Image.Image]
    hardened: Sequence[Image.Image]


def _data_uri(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _big(image: Image.Image) -> Image.Image:
    return image.resize((image.width * SCALE, image.height * SCALE), Image.Resampling.NEAREST)


def write_gallery(rows: Sequence[GalleryRow], html_path: Path, png_path: Path, title: str) -> None:
    """Write the HTML page and the PNG sheet (pixels doubled, no smoothing)."""
    if not rows:
        raise ValueError("a gallery needs at least one row")
    cells = []
    for row in rows:
        pairs = []
        for ordinary, hardened in zip(row.ordinary, row.hardened, strict=True):
            metric = f"SSIM {ssim(ordinary, hardened):.2f}, PSNR {psnr(ordinary, hardened):.1f} dB"
            pairs.append(
                '<figure><img class="ordinary" alt="ordinary" src="'
                + _data_uri(_big(ordinary))
                + '"><img class="hardened" alt="hardened" src="'
                + _data_uri(_big(hardened))
                + f'"><figcaption>{html.escape(metric)}</figcaption></figure>'
            )
        cells.append(f"<tr><th>{html.escape(row.label)}</th><td>{''.join(pairs)}</td></tr>")
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:1em}th{text-align:left;padding-right:1em;"
        "vertical-align:top;font-weight:normal;white-space:nowrap}figure{display:inline-block;"
        "margin:0 1em .5em 0}img{display:block;image-rendering:pixelated;margin-bottom:2px}"
        "figcaption{font-size:11px;color:#444}</style>"
        f"<h1>{html.escape(title)}</h1><p>Each pair: the ordinary captcha above, the hardened one "
        "below (pixels doubled).</p>"
        f"<table>{''.join(cells)}</table></html>"
    )
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(page, encoding="utf-8")
    _sheet(rows, title).save(png_path, format="PNG")


def _sheet(rows: Sequence[GalleryRow], title: str) -> Image.Image:
    label_w, pad = 260, 6
    first = rows[0].ordinary[0]
    cell_w, cell_h = first.width * SCALE, first.height * SCALE
    per_row = max(len(r.ordinary) for r in rows)
    width = label_w + per_row * (cell_w + pad)
    height = 30 + len(rows) * (2 * cell_h + 3 * pad)
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((pad, 8), title, fill="black")
    for r, row in enumerate(rows):
        top = 30 + r * (2 * cell_h + 3 * pad)
        lines = _wrapped(draw, row.label, label_w - 2 * pad)
        draw.multiline_text((pad, top + cell_h // 2), "\n".join(lines), fill="black")
        for c, (ordinary, hardened) in enumerate(zip(row.ordinary, row.hardened, strict=True)):
            left = label_w + c * (cell_w + pad)
            sheet.paste(_big(ordinary), (left, top))
            sheet.paste(_big(hardened), (left, top + cell_h + 2))
    return sheet


def _wrapped(draw: ImageDraw.ImageDraw, text: str, width: int) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width`` pixels (a single word
    wider than that keeps its own line)."""
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]
