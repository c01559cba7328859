"""Sprites for the animatic: colour emoji glyphs, or a labelled shape when none fits.

A sprite is an RGBA :class:`PIL.Image.Image` cropped to its visible pixels. Glyphs are
rendered once at the emoji font's native size (109 px for Noto Color Emoji, a bitmap
font) and cached; the renderer only resizes them per frame.

Example
-------
>>> sprite = sprite_for("car")  # doctest: +SKIP
>>> sprite.mode, sprite.size  # doctest: +SKIP
('RGBA', (123, 78))
"""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from spa2v.nouns import noun_info

log = logging.getLogger(__name__)

#: Where Debian/Ubuntu's ``fonts-noto-color-emoji`` puts its font.
EMOJI_FONT_PATHS = (
    Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"),
    Path("/usr/share/fonts/noto/NotoColorEmoji.ttf"),
    Path("/System/Library/Fonts/Apple Color Emoji.ttc"),
)
#: Noto Color Emoji is a bitmap font with a single strike at this size.
EMOJI_FONT_SIZE_PX = 109

#: Noto glyphs drawn facing RIGHT (most vehicles and animals face left); front views
#: such as 🚆 have no side and are never mirrored.
_FACES_RIGHT = {"✈", "🛩", "🚁", "🐦", "🕊", "🦅", "🐝"}
_NO_SIDE = {"🚆", "🚇", "🚊", "🧍", "🎹", "🥁", "🔔", "📱", "🕰", "❓"}


@dataclass(frozen=True)
class SpriteInfo:
    """How to draw one noun: its glyph (or ``None``) and the side it faces."""

    noun: str
    emoji: str | None
    faces_left: bool = True  # Noto draws vehicles and animals facing left
    has_side: bool = True  # False for front views, which are never mirrored


@functools.cache
def label_font(size_px: int) -> ImageFont.FreeTypeFont:
    """Pillow's built-in scalable font at ``size_px`` (for tags and titles).

    Pillow returns its old bitmap font instead when it was built without FreeType, which
    cannot be sized or measured; the wheels on PyPI always have FreeType.
    """
    font = ImageFont.load_default(size=size_px)
    if not isinstance(font, ImageFont.FreeTypeFont):
        raise RuntimeError("this Pillow has no FreeType support; install Pillow's wheel")
    return font


def emoji_font() -> ImageFont.FreeTypeFont | None:
    """The system colour-emoji font, or ``None`` (with a warning) if none is installed."""
    for path in EMOJI_FONT_PATHS:
        if path.is_file():
            try:
                return ImageFont.truetype(str(path), EMOJI_FONT_SIZE_PX)
            except OSError:  # e.g. a FreeType build without colour bitmap support
                continue
    log.warning(
        "no colour emoji font found; drawing labelled shapes "
        "(install Debian's fonts-noto-color-emoji for pictures)"
    )
    return None


def sprite_info(noun: str) -> SpriteInfo:
    """Look up the emoji for a noun in the noun table (a speaker for an unknown noun)."""
    emoji = noun_info(noun).emoji
    base = (emoji or "").replace("\ufe0f", "")  # drop the emoji-presentation selector
    return SpriteInfo(
        noun=noun,
        emoji=emoji or None,
        faces_left=base not in _FACES_RIGHT,
        has_side=base not in _NO_SIDE,
    )


@functools.cache
def emoji_sprite(emoji: str) -> Image.Image | None:
    """Render one emoji glyph to an RGBA image cropped to its pixels; ``None`` if the
    font is missing or has no glyph for it (Pillow then draws nothing)."""
    font = emoji_font()
    if font is None:
        return None
    side = EMOJI_FONT_SIZE_PX * 2  # room for wide glyphs and sequences
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    ImageDraw.Draw(image).text((0, 0), emoji, font=font, embedded_color=True)
    bbox = image.getchannel("A").getbbox()
    if bbox is None:
        return None
    return image.crop(bbox)


@functools.cache
def shape_sprite(noun: str, size_px: tuple[int, int] = (160, 100)) -> Image.Image:
    """A rounded rectangle in a colour derived from the noun, with the noun written on it.

    Used when no emoji font or glyph exists, so that every object stays visible and named.
    """
    width, height = size_px
    # A stable colour per noun (hash, not Python's salted hash()) so videos are reproducible.
    digest = hashlib.sha1(noun.encode("utf-8")).digest()
    fill = (64 + digest[0] % 160, 64 + digest[1] % 160, 64 + digest[2] % 160, 255)
    image = Image.new("RGBA", size_px, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(
        (0, 0, width - 1, height - 1), radius=height // 5, fill=fill, outline=(20, 20, 20, 255)
    )
    font = ImageFont.load_default(size=max(10, height // 4))
    draw.text((width / 2, height / 2), noun, font=font, fill=(255, 255, 255, 255), anchor="mm")
    return image


def sprite_for(noun: str) -> tuple[Image.Image, SpriteInfo]:
    """The sprite image for a noun and how it faces: emoji if possible, else a shape."""
    info = sprite_info(noun)
    sprite = emoji_sprite(info.emoji) if info.emoji else None
    if sprite is None:
        return shape_sprite(noun), SpriteInfo(noun=noun, emoji=None, has_side=False)
    return sprite, info
