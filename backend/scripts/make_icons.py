"""Draw the web app manifest's icons from frontend/static/favicon.svg (run after changing it).

CairoSVG is not one of the app's requirements; run this from a throwaway venv:

    python3 -m venv /tmp/icons && /tmp/icons/bin/pip install cairosvg==2.9.1
    /tmp/icons/bin/python backend/scripts/make_icons.py

It writes icons/icon-192.png, icon-512.png (the favicon as it is), maskable-512.png (the mark
on a full square of the favicon's blue, so any mask shape keeps it)
and icon.svg (a copy of the favicon, for browsers that take a vector icon).
"""

import re
from pathlib import Path

import cairosvg

STATIC = Path(__file__).resolve().parents[2] / "frontend" / "static"
ICONS = STATIC / "icons"
MASKABLE_SCALE = 0.9  # the safe zone is the middle circle of 80% of the width: the mark stays well inside


def maskable(svg: str) -> str:
    """The favicon's drawing, shrunk to the middle, on a full-bleed square of its colour."""
    inner = re.sub(r"^<svg[^>]*>|</svg>\s*$", "", svg.strip())
    colour = re.search(r'fill="(#[0-9a-fA-F]{6})"', svg)
    assert colour is not None, "the favicon's background colour"
    offset = 32 * (1 - MASKABLE_SCALE) / 2
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
        f'<rect width="32" height="32" fill="{colour[1]}"/>'
        f'<g transform="translate({offset} {offset}) scale({MASKABLE_SCALE})">{inner}</g></svg>'
    )


def main() -> None:
    svg = (STATIC / "favicon.svg").read_text()
    ICONS.mkdir(exist_ok=True)
    for size in (192, 512):
        cairosvg.svg2png(bytestring=svg.encode(), write_to=str(ICONS / f"icon-{size}.png"), output_width=size)
    cairosvg.svg2png(bytestring=maskable(svg).encode(), write_to=str(ICONS / "maskable-512.png"), output_width=512)
    (ICONS / "icon.svg").write_text(svg)


if __name__ == "__main__":
    main()
