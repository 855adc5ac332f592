"""Themes: the platform's look ("system"), or Fusion with our light or dark palette.

Colors live in the palettes below; ``resources/common.qss`` styles the few widgets a palette
cannot (inline error, code block, badges, check boxes), with ``light.qss``/``dark.qss`` for their
colors. Every color meets WCAG AA against what it is drawn on (tests/test_theme_contrast.py):
4.5:1 for text roles, 3:1 for lines, selection and focus.
"""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from app.shell import resources

THEMES = ("system", "light", "dark")

_LIGHT = {
    "window": "#f3f4f6", "window_text": "#1f2328", "base": "#ffffff", "alternate_base": "#f6f8fa",
    "text": "#1f2328", "button": "#f6f7f9", "button_text": "#1f2328", "bright_text": "#ffffff",
    "highlight": "#2f6fdf", "highlighted_text": "#ffffff", "link": "#1a66d0",
    "link_visited": "#6f42c1", "tooltip_base": "#ffffff", "tooltip_text": "#1f2328",
    "placeholder": "#666f78", "light": "#ffffff", "midlight": "#e6e8eb", "mid": "#858b97",
    "dark": "#696f77", "shadow": "#6e7781", "disabled_text": "#666f78",
}
_DARK = {
    "window": "#1f2125", "window_text": "#e3e5e8", "base": "#17191c", "alternate_base": "#1d2024",
    "text": "#e3e5e8", "button": "#2a2d32", "button_text": "#e3e5e8", "bright_text": "#ffffff",
    "highlight": "#3872d8", "highlighted_text": "#ffffff", "link": "#6ea8fe",
    "link_visited": "#b39ddb", "tooltip_base": "#2a2d32", "tooltip_text": "#e3e5e8",
    "placeholder": "#8b919a", "light": "#3a3e44", "midlight": "#30343a", "mid": "#666d78",
    "dark": "#6c727c", "shadow": "#6c727c", "disabled_text": "#90959c",
}
_ROLES = {
    "window": QPalette.ColorRole.Window, "window_text": QPalette.ColorRole.WindowText,
    "base": QPalette.ColorRole.Base, "alternate_base": QPalette.ColorRole.AlternateBase,
    "text": QPalette.ColorRole.Text, "button": QPalette.ColorRole.Button,
    "button_text": QPalette.ColorRole.ButtonText, "bright_text": QPalette.ColorRole.BrightText,
    "highlight": QPalette.ColorRole.Highlight, "highlighted_text": QPalette.ColorRole.HighlightedText,
    "link": QPalette.ColorRole.Link, "link_visited": QPalette.ColorRole.LinkVisited,
    "tooltip_base": QPalette.ColorRole.ToolTipBase, "tooltip_text": QPalette.ColorRole.ToolTipText,
    "placeholder": QPalette.ColorRole.PlaceholderText, "light": QPalette.ColorRole.Light,
    "midlight": QPalette.ColorRole.Midlight, "mid": QPalette.ColorRole.Mid,
    "dark": QPalette.ColorRole.Dark, "shadow": QPalette.ColorRole.Shadow,
}
_DISABLED = (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText)

_system_style: str | None = None
_system_palette: QPalette | None = None
_current = "system"


def palette(name: str) -> QPalette:
    colors = _DARK if name == "dark" else _LIGHT
    pal = QPalette()
    for key, role in _ROLES.items():
        pal.setColor(role, QColor(colors[key]))
    for role in _DISABLED:
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(colors["disabled_text"]))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Highlight, QColor(colors["mid"]))
    pal.setColor(QPalette.ColorRole.Accent, QColor(colors["highlight"]))  # (else Qt derives its own)
    # An inactive window keeps the active selection colors: a paler tint would fall below
    # 3:1 against the rows around it (the selection would stop being visible).
    return pal


def is_dark(pal: QPalette | None = None) -> bool:
    pal = pal or QApplication.palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


def current() -> str:
    return _current


def apply_theme(app: QApplication, name: str) -> str:
    """Apply "system", "light" or "dark" (anything else means "system"); return the name used."""
    global _system_style, _system_palette, _current
    name = name if name in THEMES else "system"
    if _system_style is None:  # remember the platform's look before we change it
        _system_style = app.style().name()
        _system_palette = QPalette(app.palette())
    if name == "system":
        app.setStyle(QStyleFactory.create(_system_style) or QStyleFactory.create("Fusion"))
        app.setPalette(_system_palette)
    else:
        app.setStyle(QStyleFactory.create("Fusion"))
        app.setPalette(palette(name))
    variant = "dark" if is_dark(app.palette()) else "light"
    app.setStyleSheet(stylesheet(variant))
    _current = name
    return name


def stylesheet(variant: str) -> str:
    """The application's style sheet for the "light" or "dark" variant, icon paths filled in."""
    text = resources.read_text("common.qss") + "\n" + resources.read_text(f"{variant}.qss")
    return text.replace("@ICONS@", resources.path("icons").as_posix())
