"""Entry point for ``python -m desktop_assistant``."""

import sys

from desktop_assistant.launch import main

sys.exit(main())
