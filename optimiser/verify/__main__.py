"""``python -m optimiser.verify INSTANCE PLAN [--model NAME|PATH]``."""

from . import main

raise SystemExit(main())
