"""Settings: plain JSON in the config folder, never a secret.

A dataclass rather than pydantic keeps this on the start-up path cheaply (the first paint reads it); values
are checked field by field on load, and a damaged file falls back to defaults without being overwritten.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

from desktop_assistant.core.settings import SCHEMA_VERSION, Settings
from desktop_assistant.services.atomic import write_atomically

log = logging.getLogger(__name__)

def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _coerce(value: Any, default: Any) -> Any:
    """``value`` if it has the default's type (ints widen to floats), else the default."""
    if default is None:  # optional ids
        return value if _is_int(value) else None
    if isinstance(default, bool):
        return value if isinstance(value, bool) else default
    if isinstance(default, float):
        return float(value) if _is_int(value) or isinstance(value, float) else default
    if isinstance(default, int):
        return value if _is_int(value) else default
    if isinstance(default, str):
        return value if isinstance(value, str) else default
    if isinstance(default, list):
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else default
    if isinstance(default, dict):  # price overrides: {model: {field: "decimal string"}}
        if not isinstance(value, dict):
            return default
        return {str(k): {str(f): str(x) for f, x in v.items() if isinstance(x, str | int | float)}
                for k, v in value.items() if isinstance(v, dict)}
    return default


class SettingsStore:
    """Loads and saves :class:`Settings` as JSON, atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.load_problem: str | None = None

    def load(self) -> Settings:
        """The saved settings, or defaults (a damaged file is kept aside and reported in ``load_problem``)."""
        defaults = Settings()
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return defaults
        except (OSError, ValueError) as exc:
            self.load_problem = f"The settings file could not be read ({exc}); defaults are used."
            self._keep_aside()
            return defaults
        if not isinstance(raw, dict):
            self.load_problem = "The settings file was not understood; defaults are used."
            self._keep_aside()
            return defaults
        values = {}
        for f in dataclasses.fields(Settings):
            default = getattr(defaults, f.name)
            if f.name in raw:
                values[f.name] = _coerce(raw[f.name], default)
        values["version"] = SCHEMA_VERSION
        for name in ("mcp_servers", "mcp_always_allow"):  # lists of objects, checked entry by entry by core.mcp_config
            if name in raw:
                entries = raw[name] if isinstance(raw[name], list) else []
                values[name] = [dict(v) for v in entries if isinstance(v, dict)]
        if "endpoint_default_models" in raw:  # {endpoint: model}: strings, not objects
            chosen = raw["endpoint_default_models"]
            values["endpoint_default_models"] = ({str(k): v for k, v in chosen.items() if isinstance(v, str)}
                                                 if isinstance(chosen, dict) else {})
        if "auto_backup_keep" in values:
            values["auto_backup_keep"] = max(0, min(365, values["auto_backup_keep"]))
        return dataclasses.replace(defaults, **values)

    def _keep_aside(self) -> None:
        try:
            self.path.replace(self.path.with_suffix(".damaged.json"))
        except OSError:
            log.warning("could not move the damaged settings file aside")

    def save(self, settings: Settings) -> None:
        """Write ``settings`` atomically (a crash never leaves half a file)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(dataclasses.asdict(settings), indent=2, sort_keys=True)
        write_atomically(self.path, data, sync=True)
