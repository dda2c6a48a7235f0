"""The add-on's packaging: config.yaml against a schema of the documented keys,
translations, Dockerfile, requirements and repository.yaml.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from energy_coordinator_mcp import __version__
from energy_coordinator_mcp.config import Options

ROOT = Path(__file__).resolve().parents[1]
ADDON = ROOT / "mcp_addon"

ARCHES = ["aarch64", "amd64", "armhf", "armv7", "i386"]
#: An option's schema as the Supervisor reads it (types, lists, optional `?`).
OPTION_TYPE = (
    r"^(bool|str|email|url|port|match\(.+\)|password|int(\(\d*,\d*\))?"
    r"|float(\(\d*,\d*\))?|list\([^)]+\)|device(\(.*\))?)\??$"
)

#: The add-on configuration keys documented for config.yaml (developers' docs,
#: "Add-on configuration"), with their types.
CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["name", "version", "slug", "description", "arch"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+"},
        "slug": {"type": "string", "pattern": "^[a-z0-9_]+$"},
        "description": {"type": "string", "minLength": 1},
        "url": {"type": "string", "format": "uri"},
        "arch": {
            "type": "array",
            "items": {"enum": ARCHES},
            "minItems": 1,
            "uniqueItems": True,
        },
        "machine": {"type": "array", "items": {"type": "string"}},
        "startup": {
            "enum": ["initialize", "system", "services", "application", "once"]
        },
        "boot": {"enum": ["auto", "manual", "manual_only"]},
        "init": {"type": "boolean"},
        "image": {"type": "string"},
        "homeassistant": {"type": "string"},
        "homeassistant_api": {"type": "boolean"},
        "hassio_api": {"type": "boolean"},
        "hassio_role": {
            "enum": ["default", "homeassistant", "backup", "manager", "admin"]
        },
        "auth_api": {"type": "boolean"},
        "ingress": {"type": "boolean"},
        "ingress_port": {"type": "integer", "minimum": 0, "maximum": 65535},
        "ingress_entry": {"type": "string"},
        "ingress_stream": {"type": "boolean"},
        "panel_icon": {"type": "string", "pattern": "^mdi:"},
        "panel_title": {"type": "string"},
        "panel_admin": {"type": "boolean"},
        "webui": {"type": "string"},
        "ports": {
            "type": "object",
            "patternProperties": {
                r"^\d+/(tcp|udp)$": {"type": ["integer", "null"], "minimum": 1}
            },
            "additionalProperties": False,
        },
        "ports_description": {
            "type": "object",
            "patternProperties": {r"^\d+/(tcp|udp)$": {"type": "string"}},
            "additionalProperties": False,
        },
        "host_network": {"type": "boolean"},
        "watchdog": {"type": "string", "pattern": r"^(http|https|tcp)://\[HOST\]:"},
        "apparmor": {"type": ["boolean", "string"]},
        "map": {"type": "array"},
        "environment": {"type": "object"},
        "privileged": {"type": "array", "items": {"type": "string"}},
        "full_access": {"type": "boolean"},
        "stage": {"enum": ["stable", "experimental", "deprecated"]},
        "options": {"type": "object"},
        "schema": {
            "type": "object",
            "additionalProperties": {
                "anyOf": [
                    {"type": "string", "pattern": OPTION_TYPE},
                    {
                        "type": "array",
                        "items": {"type": "string", "pattern": OPTION_TYPE},
                        "maxItems": 1,
                    },
                ]
            },
        },
        "backup_exclude": {"type": "array", "items": {"type": "string"}},
        "timeout": {"type": "integer"},
        "tmpfs": {"type": "boolean"},
        "discovery": {"type": "array", "items": {"type": "string"}},
        "services": {"type": "array", "items": {"type": "string"}},
    },
}


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_config_yaml_matches_the_documented_schema() -> None:
    config = load(ADDON / "config.yaml")
    jsonschema.validate(
        config,
        CONFIG_SCHEMA,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )
    assert config["version"] == __version__
    assert config["arch"] == ["aarch64", "amd64"]
    assert config["homeassistant_api"] is True and config["ingress"] is True
    assert "8765/tcp" in config["ports"]


def test_options_have_schemas_and_load() -> None:
    config = load(ADDON / "config.yaml")
    assert set(config["options"]) == set(config["schema"])
    assert set(config["options"]) >= {
        "read_only",
        "allowed_domains",
        "confirm_domains",
        "expose",
        "anthropic_api_key",
        "model",
        "daily_token_budget",
        "log_level",
    }
    assert config["schema"]["anthropic_api_key"].startswith("password")
    # The defaults of config.yaml are the package's defaults.
    assert Options.from_mapping(config["options"]) == Options()


def test_translations_cover_every_option() -> None:
    config = load(ADDON / "config.yaml")
    for language in ("en", "pt-BR"):
        translation = load(ADDON / "translations" / f"{language}.yaml")
        assert set(translation["configuration"]) == set(config["options"]), language
        for entry in translation["configuration"].values():
            assert entry["name"] and entry["description"]
        assert set(translation["network"]) == set(config["ports"])


def test_dockerfile_has_an_explicit_from_and_labels() -> None:
    text = (ADDON / "Dockerfile").read_text(encoding="utf-8")
    froms = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert froms and all("$" not in image for image in froms)
    assert "BUILD_FROM" not in text
    for label in (
        'io.hass.type="addon"',
        "io.hass.arch=",
        'io.hass.version="' + __version__,
    ):
        assert label in text
    assert "energy_coordinator_mcp" in text


def test_requirements_are_pinned() -> None:
    pins = {}
    for raw in (ADDON / "requirements.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name] = version
    assert set(pins) == {"mcp", "aiohttp", "anthropic"}
    assert pins["mcp"].startswith("2.") and pins["anthropic"].startswith("2.")


def test_repository_yaml_and_docs() -> None:
    repo = load(ROOT / "repository.yaml")
    assert repo["name"] and repo["url"].startswith("https://")
    for doc in ("DOCS.md", "CHANGELOG.md", "apparmor.txt"):
        assert (ADDON / doc).read_text(encoding="utf-8").strip(), doc
    assert __version__ in (ADDON / "CHANGELOG.md").read_text(encoding="utf-8")
