"""Draw the app icon (resources/icons/jiuzhu.png and .ico): a white cross on the app's blue rounded square.

Run once when the design changes; the images are committed, so a build does not need this script.
    python packaging/make_icon.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
BLUE_TOP, BLUE_BOTTOM = (58, 110, 165), (36, 71, 107)  # the navigation bar's colours in app/gui/theme.py
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 128, 256)  # what Windows asks for at 100 %–250 % scaling
SUPERSAMPLE = 8


def draw(size: int) -> Image.Image:
    """The icon at `size` pixels, drawn large and scaled down so small sizes keep clean edges."""
    big = size * SUPERSAMPLE
    gradient = Image.new("RGBA", (big, big))
    paint = ImageDraw.Draw(gradient)
    for y in range(big):
        t = y / (big - 1)
        paint.line([(0, y), (big, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(BLUE_TOP, BLUE_BOTTOM)))
    mask = Image.new("L", (big, big), 0)
    # Small sizes use nearly the whole square: a 16-pixel icon cannot spare a margin.
    margin = round(big * (0.02 if size <= 24 else 0.06))
    ImageDraw.Draw(mask).rounded_rectangle([margin, margin, big - margin - 1, big - margin - 1],
                                           radius=round(big * 0.2), fill=255)
    icon = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    icon.paste(gradient, (0, 0), mask)
    pen = ImageDraw.Draw(icon)
    arm = big * (0.17 if size <= 24 else 0.14)  # half the width of each bar of the cross
    reach = big * (0.33 if size <= 24 else 0.30)
    c = big / 2
    pen.rounded_rectangle([c - arm, c - reach, c + arm, c + reach], radius=round(arm * 0.35), fill="white")
    pen.rounded_rectangle([c - reach, c - arm, c + reach, c + arm], radius=round(arm * 0.35), fill="white")
    return icon.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    draw(256).save(ICONS / "jiuzhu.png", optimize=True)
    frames = [draw(s) for s in ICO_SIZES]
    frames[-1].save(ICONS / "jiuzhu.ico", sizes=[(s, s) for s in ICO_SIZES], append_images=frames[:-1])


if __name__ == "__main__":
    main()
