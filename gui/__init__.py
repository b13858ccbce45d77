"""PySide6 front end. Talks to ``core`` only through jobs and plain data."""
