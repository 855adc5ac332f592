"""The window shell: the main window with its menus and panels, theme, settings, resources,
error reporting, about and welcome screens, and hand-offs to the desktop."""
