"""``python -m srw``: the same as the ``srw`` command."""

import sys

from srw import main

sys.exit(main())
