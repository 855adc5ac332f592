"""Helpers shared by the app's panels: the background worker (``worker.Worker``), number
formatting, table models and looks, and waiting for the window's next paint (``next_frame``)."""
