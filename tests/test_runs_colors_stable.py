"""Run colors: a function of the run itself (the same after reopening, deleting other runs,
filtering or live arrival), from a palette of at least 20 distinguishable colors in each theme."""
import itertools
import math
import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette

from app.runs import colors as run_colors
from app.shell import theme

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE, log_run, open_window

MIN_COLORS = 20
MIN_DELTA_E = 12.0  # CIEDE2000: 2.3 is a just-noticeable difference; 12 is plainly another color
MIN_CONTRAST = 3.0  # WCAG 2.1 non-text contrast (1.4.11)


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _luminance(color: QColor) -> float:
    r, g, b = (_linear(v) for v in (color.redF(), color.greenF(), color.blueF()))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: QColor, b: QColor) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def lab(color: QColor) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an sRGB color."""
    r, g, b = (_linear(v) for v in (color.redF(), color.greenF(), color.blueF()))
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29
    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def ciede2000(lab1, lab2) -> float:
    """Sharma, Wu and Dalal's formulation (Color Res. Appl. 30, 2005)."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar ** 7 / (c_bar ** 7 + 25 ** 7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360
    h2p = math.degrees(math.atan2(b2, a2p)) % 360
    dlp, dcp = l2 - l1, c2p - c1p
    dh = 0.0 if c1p * c2p == 0 else (h2p - h1p + 180) % 360 - 180
    dhp = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    lbp, cbp = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        hbp = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hbp = (h1p + h2p) / 2
    else:
        hbp = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(hbp - 30)) + 0.24 * math.cos(math.radians(2 * hbp))
         + 0.32 * math.cos(math.radians(3 * hbp + 6)) - 0.20 * math.cos(math.radians(4 * hbp - 63)))
    d_theta = 30 * math.exp(-(((hbp - 275) / 25) ** 2))
    rc = 2 * math.sqrt(cbp ** 7 / (cbp ** 7 + 25 ** 7))
    sl = 1 + 0.015 * (lbp - 50) ** 2 / math.sqrt(20 + (lbp - 50) ** 2)
    sc, sh = 1 + 0.045 * cbp, 1 + 0.015 * cbp * t
    rt = -math.sin(math.radians(2 * d_theta)) * rc
    return math.sqrt((dlp / sl) ** 2 + (dcp / sc) ** 2 + (dhp / sh) ** 2 + rt * (dcp / sc) * (dhp / sh))


def test_ciede2000_matches_the_published_test_data():
    assert ciede2000((50, 2.6772, -79.7751), (50, 0, -82.7485)) == pytest.approx(2.0425, abs=1e-4)
    assert ciede2000((50, 2.5, 0), (73, 25, -18)) == pytest.approx(27.1492, abs=1e-4)


@pytest.mark.parametrize("name", ["light", "dark"])
def test_each_theme_has_twenty_distinguishable_run_colors_that_stand_out_from_its_backgrounds(qapp, name):
    colors = [QColor(c) for c in run_colors.palette(dark=name == "dark")]
    assert len(colors) >= MIN_COLORS
    pal = theme.palette(name)
    for role in (QPalette.ColorRole.Base, QPalette.ColorRole.Window):  # the table and charts; the legend
        background = pal.color(role)
        for color in colors:
            assert contrast(color, background) >= MIN_CONTRAST, (color.name(), background.name())
    closest = min(itertools.combinations(colors, 2), key=lambda p: ciede2000(lab(p[0]), lab(p[1])))
    assert ciede2000(lab(closest[0]), lab(closest[1])) >= MIN_DELTA_E, [c.name() for c in closest]


def test_the_color_follows_the_theme_and_keeps_its_slot(qapp):
    run_id = "3" * 32
    try:
        theme.apply_theme(qapp, "dark")
        dark = run_colors.color_for(run_id)
        theme.apply_theme(qapp, "light")
        light = run_colors.color_for(run_id)
    finally:
        theme.apply_theme(qapp, "system")
        qapp.setStyleSheet("")
    slot = run_colors.palette_index(run_id)
    assert dark.name() == run_colors.DARK_PALETTE[slot] and light.name() == run_colors.LIGHT_PALETTE[slot]


def _swatches(window) -> dict[str, str]:
    """{run id: the color of its swatch in the runs table}."""
    model = window.runs_model
    column = model.column_index("name")
    out = {}
    for row in range(model.rowCount()):
        icon = model.index(row, column).data(int(Qt.ItemDataRole.DecorationRole))
        out[model.run_id_at(row)] = icon.pixmap(16, 16).toImage().pixelColor(8, 8).name()
    return out


@OFFSCREEN_NOISE
def test_a_runs_color_survives_reopening_deleting_filtering_and_live_arrival(qtbot, runs_root):
    ids = [log_run(f"run{i:02d}", metrics={"acc": i / 20}) for i in range(14)]
    window = open_window(qtbot, runs_root, 14)
    before = _swatches(window)
    assert len(set(before.values())) >= 4  # not one color for all (14 random ids in 3 slots or fewer: ~3e-9)

    subset = runs_root.parent / "subset"  # two of the runs, copied into another folder
    for run_id in (ids[5], ids[9]):
        shutil.copytree(runs_root / run_id, subset / run_id)
    elsewhere = open_window(qtbot, subset, 2)
    assert _swatches(elsewhere) == {ids[5]: before[ids[5]], ids[9]: before[ids[9]]}

    shutil.rmtree(runs_root / ids[0])  # an older run goes: the others keep their colors
    window.open_directory(runs_root)
    qtbot.waitUntil(lambda: window.runs_model.total_count() == 13 and not window.progress.isVisible(),
                    timeout=10000)
    after = _swatches(window)
    assert after == {k: v for k, v in before.items() if k != ids[0]}

    window.runs_view.filter_edit.setText("metrics.acc > 0.5")
    qtbot.waitUntil(lambda: window.runs_model.rowCount() == 3)
    assert _swatches(window) == {k: before[k] for k in ids[11:]}
    window.runs_view.filter_edit.setText("")
    qtbot.waitUntil(lambda: window.runs_model.rowCount() == 13)

    late = log_run("late", metrics={"acc": 0.1})  # arrives while the window is open
    qtbot.waitUntil(lambda: window.runs_model.get(late) is not None, timeout=10000)
    assert _swatches(window)[late] == run_colors.color_for(late).name()
    assert {k: v for k, v in _swatches(window).items() if k != late} == after

    other = open_window(qtbot, runs_root, 14)  # a restart: another window on the same folder
    assert _swatches(other) == _swatches(window)
