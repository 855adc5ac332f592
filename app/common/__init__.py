"""Helpers shared by the app's panels: the background worker (``worker.Worker``) that runs
every job off the GUI thread and delivers its results back on it."""
