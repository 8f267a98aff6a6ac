"""Build helpers for ``pyinstaller.spec`` (the one-folder binary); not part of the app."""
