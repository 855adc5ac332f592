"""One color per run, the same everywhere (runs table swatch, chart curves, compare view).

A run's color is a function of its run id alone (a CRC-32 of the id picks a slot), so it is the
same on every start, after reopening the directory, whatever the filter or the order in which
runs arrive. The price: two runs can share a slot (1 in 20 for a pair), which the legend's
names settle; giving runs slots in turn avoided that but made a color depend on which other
runs the directory holds.

Each slot has one color per theme, of about the same hue in both: dark enough on the light
theme's white and light enough on the dark theme's near-black for 3:1 contrast (WCAG's figure
for graphics) on the theme's base and window colors, and at least 12 CIEDE2000 apart from every
other color of its theme (picked by farthest-point selection among sRGB colors of moderate
chroma; tests check both figures).
"""
from __future__ import annotations

import functools
import zlib

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication

from app.shell import theme

# Slot by slot: the light theme's color, then the dark theme's, ordered by hue.
_PAIRS = (
    ("#f8495f", "#ff4266"),  # coral
    ("#a80000", "#e26d0f"),  # red / orange
    ("#b65f42", "#cc755f"),  # terracotta / salmon
    ("#834207", "#ffa88a"),  # brown / peach
    ("#cc7500", "#ffd37c"),  # amber / sand
    ("#997c33", "#cc920f"),  # ochre / gold
    ("#66500f", "#cccc24"),  # umber / citron
    ("#839200", "#a8f05f"),  # olive / lime
    ("#506d00", "#929200"),  # moss / olive
    ("#00922c", "#00a066"),  # green / jade
    ("#005f33", "#75f0cc"),  # forest / mint
    ("#169983", "#00b6af"),  # teal / turquoise
    ("#005f99", "#33bdff"),  # navy / sky
    ("#008ae2", "#a8b6ff"),  # azure / periwinkle
    ("#50498a", "#9283cc"),  # indigo / lavender
    ("#7c6df0", "#3a8aff"),  # iris / blue
    ("#9924a8", "#ffbdf8"),  # purple / pink
    ("#db50cc", "#db6df0"),  # orchid / violet
    ("#a00057", "#c38fa0"),  # plum / dusty rose
    ("#b65f7c", "#f849b6"),  # mauve / magenta
)
LIGHT_PALETTE: tuple[str, ...] = tuple(light for light, _ in _PAIRS)
DARK_PALETTE: tuple[str, ...] = tuple(dark for _, dark in _PAIRS)


def palette(dark: bool | None = None) -> tuple[str, ...]:
    """The run colors of the dark or light theme (None: the application's current theme)."""
    if dark is None:
        dark = QApplication.instance() is not None and theme.is_dark()
    return DARK_PALETTE if dark else LIGHT_PALETTE


def palette_index(run_id: str) -> int:
    """The run's slot in the palettes: the same in every process and on every start
    (``hash()`` of a str is salted per process, CRC-32 is not)."""
    return zlib.crc32(run_id.encode("utf-8", "surrogatepass")) % len(_PAIRS)


def color_for(run_id: str, dark: bool | None = None) -> QColor:
    """The run's color in the current theme (a new QColor each call: callers may change its alpha)."""
    return QColor(palette(dark)[palette_index(run_id)])


@functools.lru_cache(maxsize=64)
def _swatch(hex_color: str, size: int) -> QIcon:
    icon = QIcon()
    for scale in (1, 2):  # crisp on high-DPI screens
        pixmap = QPixmap(size * scale, size * scale)
        pixmap.setDevicePixelRatio(scale)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = QColor(hex_color)
        painter.setPen(color.darker(130))
        painter.setBrush(color)
        inset = size * 0.2
        painter.drawRoundedRect(QRectF(inset, inset, size - 2 * inset, size - 2 * inset), 2.5, 2.5)
        painter.end()
        # the same pixmap when selected: Qt would otherwise tint it with the highlight color,
        # and the swatch must match the curve exactly
        for mode in (QIcon.Mode.Normal, QIcon.Mode.Selected, QIcon.Mode.Active):
            icon.addPixmap(pixmap, mode)
    return icon


def swatch_icon(run_id: str, size: int = 16) -> QIcon:
    """A small rounded square in the run's color, for table rows, legends and menus."""
    return _swatch(color_for(run_id).name(), size)
