"""The PySide6 desktop app: a client of the job service, never of the HTTP API.

``main.py`` (the composition root) builds the JobService, AccessService and the
embedded API server and hands them to :func:`gui.app.run_app`. Widgets are touched
only on the GUI thread; job events, decoded frames and slow calls arrive as signals.
"""
