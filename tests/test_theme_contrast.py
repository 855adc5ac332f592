"""Both themes meet WCAG AA contrast: 4.5:1 for text against what it is drawn on, 3:1 for
graphics (selection, focus, lines, check box borders, status icons). Ratios are computed here
with WCAG 2.x relative luminance, from the palettes app/shell/theme.py applies."""
from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QCheckBox, QStyle, QStyleOptionButton, QWidget

from app_fixtures import *  # noqa: F403
from app_fixtures import OFFSCREEN_NOISE

from app.shell import resources, theme

pytestmark = OFFSCREEN_NOISE
R = QPalette.ColorRole

TEXT, GRAPHIC = 4.5, 3.0
BACKGROUNDS = (R.Window, R.Base, R.AlternateBase, R.Button)
# role -> (the roles it is drawn on, the ratio it needs)
PAIRS = {
    R.WindowText: ((R.Window, R.Base, R.AlternateBase, R.Button, R.Midlight, R.Light), TEXT),
    R.Text: ((R.Base, R.AlternateBase, R.Window), TEXT),
    R.ButtonText: ((R.Button, R.Window), TEXT),
    R.HighlightedText: ((R.Highlight,), TEXT),
    R.ToolTipText: ((R.ToolTipBase,), TEXT),
    R.Link: ((R.Base, R.AlternateBase, R.Window), TEXT),
    R.LinkVisited: ((R.Base, R.AlternateBase, R.Window), TEXT),
    R.PlaceholderText: ((R.Base, R.Window), TEXT),
    R.BrightText: ((R.Highlight, R.Dark, R.Shadow), TEXT),
    # graphics: the selection, the focus ring (drawn in Highlight) and the line shades
    R.Highlight: ((R.Base, R.AlternateBase, R.Window), GRAPHIC),
    R.Accent: ((R.Base, R.AlternateBase, R.Window), GRAPHIC),
    R.Mid: ((R.Base, R.Window), GRAPHIC),
    R.Dark: ((R.Base, R.Window), GRAPHIC),
    R.Shadow: ((R.Base, R.Window), GRAPHIC),
}
# Background roles: every text role above is checked on them.
SURFACES = {R.Window, R.Base, R.AlternateBase, R.Button, R.ToolTipBase, R.Light, R.Midlight}


def luminance(color: QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(color.redF()) + 0.7152 * channel(color.greenF()) + 0.0722 * channel(color.blueF())


def contrast(a: QColor, b: QColor) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_wcag_formula_matches_known_ratios():
    assert contrast(QColor("#000000"), QColor("#ffffff")) == pytest.approx(21.0)
    assert contrast(QColor("#777777"), QColor("#ffffff")) == pytest.approx(4.48, abs=0.01)
    assert contrast(QColor("#0000ff"), QColor("#1f2125")) < 2.5  # the old dark-theme link


def test_every_palette_role_is_checked():
    roles = {role for role in R if role not in (R.NoRole, R.NColorRoles)}
    assert roles - set(PAIRS) - SURFACES == set()


@pytest.mark.parametrize("name", ["light", "dark"])
@pytest.mark.parametrize("group", [QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive])
def test_palette_roles_meet_wcag_aa(name, group):
    pal = theme.palette(name)
    failures = []
    for role, (backgrounds, needed) in PAIRS.items():
        for background in backgrounds:
            ratio = contrast(pal.color(group, role), pal.color(group, background))
            if ratio < needed:
                failures.append(f"{role.name} {pal.color(group, role).name()} on {background.name} "
                                f"{pal.color(group, background).name()}: {ratio:.2f} < {needed}")
    assert not failures, failures


@pytest.mark.parametrize("name", ["light", "dark"])
def test_disabled_text_stays_readable(name):
    pal = theme.palette(name)
    for role in (R.WindowText, R.Text, R.ButtonText):
        color = pal.color(QPalette.ColorGroup.Disabled, role)
        for background in BACKGROUNDS:
            assert contrast(color, pal.color(background)) >= TEXT, (role.name, background.name)
        assert color != pal.color(role)  # still told apart from enabled text


def _fills(svg: str) -> list[QColor]:
    return [QColor(c) for c in re.findall(r'(?:fill|stroke)="(#[0-9a-fA-F]{6})"', svg)]


@pytest.mark.parametrize("icon", ["status-running", "status-finished", "status-failed", "status-killed",
                                  "warning"])
def test_status_icons_stand_out_from_the_rows_in_both_themes(icon):
    shape = _fills(resources.read_text(f"icons/{icon}.svg"))[0]  # the outer shape's color
    for name in ("light", "dark"):
        pal = theme.palette(name)
        for background in (R.Base, R.AlternateBase, R.Window):
            assert contrast(shape, pal.color(background)) >= GRAPHIC, (icon, name, background.name)
    for mark in _fills(resources.read_text(f"icons/{icon}.svg"))[1:]:  # the glyph inside the shape
        if mark != shape:
            assert contrast(mark, shape) >= GRAPHIC, icon


def _off_and_on(qtbot, kind) -> tuple:
    """Two buttons of ``kind`` ("off", then "on") drawn in the current theme, on a host the caller
    holds for as long as it reads them: the host, the buttons, the image and the Window color."""
    host = QWidget()
    qtbot.addWidget(host)
    host.setAutoFillBackground(True)
    buttons = [kind("off", host), kind("on", host)]
    buttons[1].setChecked(True)
    buttons[1].move(0, 30)
    host.resize(120, 60)
    host.show()
    qtbot.waitExposed(host)
    return host, buttons, host.grab().toImage(), host.palette().color(R.Window)


@pytest.mark.parametrize("name", ["light", "dark"])
def test_check_box_borders_and_marks_meet_3_to_1(qtbot, qapp, name):
    theme.apply_theme(qapp, name)
    try:
        _host, boxes, image, window = _off_and_on(qtbot, QCheckBox)
        for box in boxes:
            option = QStyleOptionButton()
            box.initStyleOption(option)
            rect: QRect = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
            rect.translate(box.pos())
            border = image.pixelColor(rect.left(), rect.center().y())
            assert contrast(border, window) >= GRAPHIC, (box.text(), border.name(), window.name())
        on = boxes[1].geometry().topLeft()
        option = QStyleOptionButton()
        boxes[1].initStyleOption(option)
        rect = boxes[1].style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, boxes[1])
        inside = [image.pixelColor(on.x() + x, on.y() + y) for x in range(rect.left() + 2, rect.right() - 1)
                  for y in range(rect.top() + 2, rect.bottom() - 1)]
        fill = max(set(c.name() for c in inside), key=lambda n: sum(c.name() == n for c in inside))
        assert max(contrast(c, QColor(fill)) for c in inside) >= GRAPHIC  # a check mark is drawn
    finally:
        theme.apply_theme(qapp, "system")
        qapp.setStyleSheet("")


def _rules(variant: str) -> list[tuple[str, dict[str, str]]]:
    text = re.sub(r"/\*.*?\*/", "", resources.read_text(f"{variant}.qss"), flags=re.S)
    rules = []
    for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", text):
        props = dict((k.strip(), v.strip()) for k, v in (p.split(":", 1) for p in body.split(";") if ":" in p))
        rules.append((" ".join(selector.split()), props))
    return rules


@pytest.mark.parametrize("name", ["light", "dark"])
def test_style_sheet_text_and_field_borders_meet_wcag_aa(name):
    pal = theme.palette(name)
    failures = []
    for selector, props in _rules(name):
        backgrounds = [QColor(props["background"])] if "background" in props else \
            [pal.color(R.Window), pal.color(R.Base)]
        if "color" in props:
            for background in backgrounds:
                if contrast(QColor(props["color"]), background) < TEXT:
                    failures.append(f"{selector}: text {props['color']} on {background.name()}")
        border = props.get("border-color") or (props.get("border", "").split() or [""])[-1]
        if selector.startswith(("QLineEdit", "QCheckBox::indicator", "QRadioButton::indicator")) \
                and border.startswith("#") \
                and ":disabled" not in selector:
            for background in (pal.color(R.Window), pal.color(R.Base)):
                if contrast(QColor(border), background) < GRAPHIC:
                    failures.append(f"{selector}: border {border} on {background.name()}")
    assert not failures, failures


@pytest.mark.parametrize("name", ["light", "dark"])
def test_radio_buttons_show_their_ring_and_their_choice(qtbot, qapp, name):
    from PySide6.QtWidgets import QRadioButton
    theme.apply_theme(qapp, name)
    try:
        _host, radios, image, window = _off_and_on(qtbot, QRadioButton)
        for radio in radios:
            option = QStyleOptionButton()
            radio.initStyleOption(option)
            rect: QRect = radio.style().subElementRect(QStyle.SubElement.SE_RadioButtonIndicator, option, radio)
            rect.translate(radio.pos())
            ring = [image.pixelColor(x, rect.center().y()) for x in range(rect.left(), rect.left() + 4)]  # its rim
            assert max(contrast(c, window) for c in ring) >= GRAPHIC, (radio.text(), [c.name() for c in ring])
            centre = image.pixelColor(rect.center())
            edge = max(ring, key=lambda c: contrast(c, window))
            if radio.isChecked():  # a dot that stands out of its ring
                assert contrast(centre, edge) >= GRAPHIC, (centre.name(), edge.name())
    finally:
        theme.apply_theme(qapp, "system")
        qapp.setStyleSheet("")
