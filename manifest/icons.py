"""The app icons, drawn by code so the package never ships a placeholder and needs no binary files in git.

One glyph, a calendar page with a chain link on it ("a link for an appointment"), drawn twice: white on the
accent colour for the 192x192 colour icon, and white on transparent for the 32x32 outline icon Teams shows in
its app bar. Both are drawn large and scaled down, so edges are anti-aliased.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

ACCENT_COLOR = "#2F5FAF"
COLOR_SIZE = 192
OUTLINE_SIZE = 32
_SUPERSAMPLE = 8


def _glyph_mask(size: int, *, detail: bool) -> Image.Image:
    """An 8-bit coverage mask of the glyph, `size` pixels square (drawn at 8x, then downsampled).

    `detail` adds the binder rings; at 32 pixels they would blur into the header band, so the outline skips them.
    """
    big = size * _SUPERSAMPLE
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)

    def px(fraction: float) -> int:
        return round(fraction * big)

    # Calendar page: rounded outline, a solid header band, and two binder rings above it.
    stroke = px(0.055)
    left, top, right, bottom = px(0.14), px(0.2), px(0.86), px(0.86)
    draw.rounded_rectangle((left, top, right, bottom), radius=px(0.09), outline=255, width=stroke)
    draw.rectangle((left, top + px(0.05), right, top + px(0.17)), fill=255)
    draw.rounded_rectangle((left, top, right, top + px(0.17)), radius=px(0.09), fill=255)
    if detail:
        for ring_x in (0.33, 0.67):
            draw.rounded_rectangle(
                (px(ring_x - 0.035), px(0.12), px(ring_x + 0.035), px(0.3)), radius=px(0.035), fill=255
            )
            draw.rounded_rectangle((px(ring_x - 0.012), px(0.2), px(ring_x + 0.012), px(0.3)), radius=px(0.012), fill=0)

    # Chain link: two interlocked rounded capsules, drawn level on their own layer and turned 45 degrees.
    link = Image.new("L", (big, big), 0)
    link_draw = ImageDraw.Draw(link)
    centre_y = px(0.62)
    link_stroke = px(0.05)
    half_h = px(0.085)
    for x0, x1 in ((0.3, 0.56), (0.44, 0.7)):
        link_draw.rounded_rectangle(
            (px(x0), centre_y - half_h, px(x1), centre_y + half_h), radius=half_h, outline=255, width=link_stroke
        )
    link = link.rotate(35, resample=Image.Resampling.BICUBIC, center=(px(0.5), centre_y))
    mask.paste(255, (0, 0), link)
    return mask.resize((size, size), Image.Resampling.LANCZOS)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def color_icon(accent: str = ACCENT_COLOR) -> bytes:
    """The 192x192 full-colour icon: a white glyph, with the padding Teams asks for, on a solid accent square."""
    image = Image.new("RGB", (COLOR_SIZE, COLOR_SIZE), accent)
    glyph = _glyph_mask(COLOR_SIZE * 3 // 4, detail=True)
    offset = (COLOR_SIZE - glyph.width) // 2
    image.paste((255, 255, 255), (offset, offset), glyph)
    return _png(image)


def outline_icon() -> bytes:
    """The 32x32 outline icon: pure white, with the glyph's coverage as alpha, so Teams can tint it."""
    image = Image.new("RGBA", (OUTLINE_SIZE, OUTLINE_SIZE), (255, 255, 255, 0))
    image.putalpha(_glyph_mask(OUTLINE_SIZE, detail=False))
    return _png(image)
