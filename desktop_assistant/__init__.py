"""Desktop Assistant: a fast, trustworthy desktop window onto the OpenAI API."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("desktop-assistant")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"

APP_NAME = "Desktop Assistant"
APP_ID = "desktop-assistant"
