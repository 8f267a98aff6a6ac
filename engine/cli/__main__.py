"""``python -m engine.cli``: the same as the ``engine`` command."""

from engine.cli.app import main

raise SystemExit(main())
