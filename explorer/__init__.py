"""The PyQt6 explorer: a desktop app that animates hash-map operations for teaching.

It arrives in a later issue; for now only the ``explorer`` entry point exists.
"""
