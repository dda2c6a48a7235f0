"""The add-on's options and where it keeps its files.

Owns `Options` (what `config.yaml` declares, read from `/data/options.json` inside the
add-on container, or from the command line / environment outside it), their
defaults and validation, and the data directory (`/data` by default) that holds the
bearer token, the secret URL path and the audit log.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

DEFAULT_DATA_DIR = Path("/data")
DEFAULT_HA_URL = "http://supervisor/core"
DEFAULT_MODEL = "claude-sonnet-5-5"
DEFAULT_PORT = 8765
DEFAULT_INGRESS_PORT = 8099

#: Domains `call_service` may reach unless the owner lists others.
DEFAULT_ALLOWED_DOMAINS: tuple[str, ...] = (
    "light",
    "switch",
    "fan",
    "cover",
    "climate",
    "water_heater",
    "input_boolean",
    "input_number",
    "input_select",
    "scene",
    "script",
    "energy_coordinator",
)
#: Domains whose `call_service` needs the two-step confirmation.
DEFAULT_CONFIRM_DOMAINS: tuple[str, ...] = (
    "cover",
    "climate",
    "water_heater",
    "script",
    "energy_coordinator",
    "lock",
    "alarm_control_panel",
)

Expose = Literal["all", "assist"]
LogLevel = Literal["debug", "info", "warning", "error"]
LOG_LEVELS: tuple[str, ...] = ("debug", "info", "warning", "error")


class OptionsError(ValueError):
    """An option has a value the add-on cannot use."""


def _str_list(name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [part for part in value.replace(",", " ").split() if part]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise OptionsError(f"{name} must be a list of strings")
    return tuple(v.strip().lower() for v in value if v.strip())


@dataclass(frozen=True, slots=True)
class Options:
    """The owner's options (config.yaml `options`/`schema`)."""

    read_only: bool = False
    allowed_domains: tuple[str, ...] = DEFAULT_ALLOWED_DOMAINS
    confirm_domains: tuple[str, ...] = DEFAULT_CONFIRM_DOMAINS
    expose: Expose = "all"
    anthropic_api_key: str = field(default="", repr=False)
    model: str = DEFAULT_MODEL
    daily_token_budget: int = 200_000
    log_level: LogLevel = "info"
    #: Browser origins allowed to call the MCP endpoint (others get 403).
    allowed_origins: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Options:
        """Validated options from `options.json`; unknown keys are ignored."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        options = cls()
        if "read_only" in values:
            if not isinstance(values["read_only"], bool):
                raise OptionsError("read_only must be true or false")
            options = replace(options, read_only=values["read_only"])
        if "allowed_domains" in values:
            allowed = _str_list("allowed_domains", values["allowed_domains"])
            options = replace(options, allowed_domains=allowed)
        if "confirm_domains" in values:
            confirm = _str_list("confirm_domains", values["confirm_domains"])
            options = replace(options, confirm_domains=confirm)
        if "allowed_origins" in values:
            origins = _str_list("allowed_origins", values["allowed_origins"])
            options = replace(
                options, allowed_origins=tuple(o.rstrip("/") for o in origins)
            )
        if "expose" in values:
            if values["expose"] not in ("all", "assist"):
                raise OptionsError("expose must be 'all' or 'assist'")
            options = replace(options, expose=values["expose"])
        if "anthropic_api_key" in values:
            options = replace(
                options, anthropic_api_key=str(values["anthropic_api_key"] or "")
            )
        if values.get("model"):
            options = replace(options, model=str(values["model"]))
        if "daily_token_budget" in values:
            budget = values["daily_token_budget"]
            if not isinstance(budget, int) or isinstance(budget, bool) or budget < 0:
                raise OptionsError("daily_token_budget must be a whole number >= 0")
            options = replace(options, daily_token_budget=budget)
        if "log_level" in values:
            level = str(values["log_level"]).lower()
            if level not in LOG_LEVELS:
                raise OptionsError(f"log_level must be one of {', '.join(LOG_LEVELS)}")
            options = replace(options, log_level=level)  # type: ignore[arg-type]
        return options

    @classmethod
    def load(cls, path: Path) -> Options:
        """Options from a JSON file (defaults when it does not exist)."""
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise OptionsError(f"cannot read {path}: {err}") from err
        if not isinstance(data, dict):
            raise OptionsError(f"{path} must hold a JSON object")
        return cls.from_mapping(data)

    def secrets(self) -> tuple[str, ...]:
        """Option values that must never be shown or logged."""
        return (self.anthropic_api_key,) if self.anthropic_api_key else ()


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the process needs: options plus where and how it runs."""

    options: Options
    ha_url: str = DEFAULT_HA_URL
    ha_token: str = field(default="", repr=False)
    data_dir: Path = DEFAULT_DATA_DIR
    transport: Literal["http", "stdio"] = "http"
    host: str = "0.0.0.0"
    port: int = DEFAULT_PORT
    #: Port of the ingress status page (0: no ingress server).
    ingress_port: int = DEFAULT_INGRESS_PORT
    #: The address the status page shows for MCP clients (default: derived).
    public_url: str = ""

    @property
    def options_path(self) -> Path:
        """`options.json` in the data directory."""
        return self.data_dir / "options.json"

    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a result or a log line."""
        found = [*self.options.secrets()]
        if self.ha_token:
            found.append(self.ha_token)
        return tuple(found)


def env_default(name: str, fallback: str = "") -> str:
    """An environment variable, or the fallback when unset or empty."""
    return os.environ.get(name) or fallback
