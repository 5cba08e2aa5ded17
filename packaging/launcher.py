"""Entry script of the frozen app (PyInstaller's ``Analysis`` starts here): the same as ``desktop-assistant``.

Kept in ``packaging/`` (which never has an ``__init__.py``) so that the analysis finds ``desktop_assistant`` as
the installed package, not as files beside the script.
"""

import sys

from desktop_assistant.launch import main

if __name__ == "__main__":
    sys.exit(main())
