"""Installing the bundled "Coordinate energy" automation blueprint.

Owns `async_install_blueprint()`, which puts
`blueprints/coordinate_energy.yaml` (shipped with the integration) into
`<config>/blueprints/automation/energy_coordinator/coordinate_energy.yaml`, where
Settings → Automations & scenes → Blueprints lists it.

Policy, decided by SHA-256 content hashes (the hash of the copy we last wrote is
kept in `.storage/energy_coordinator.blueprints`):

* no file yet: write ours;
* the file equals ours: nothing to do;
* the file equals the copy we wrote earlier (so the owner has not touched it) and
  ours differs (a newer release): replace it;
* anything else (the owner edited it, or we never wrote it): keep the owner's
  file and log that it is not updated.

All file work runs in the executor; a failure is logged and never stops the
integration from loading.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util.file import write_utf8_file

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

BLUEPRINT_FILE = "coordinate_energy.yaml"
#: The blueprint as shipped with the integration.
BUNDLED = Path(__file__).parent / "blueprints" / BLUEPRINT_FILE
#: Where it goes, relative to the HA config folder (and its blueprint path).
TARGET_PARTS = ("blueprints", "automation", DOMAIN, BLUEPRINT_FILE)
BLUEPRINT_PATH = f"{DOMAIN}/{BLUEPRINT_FILE}"

STORAGE_KEY = f"{DOMAIN}.blueprints"
STORAGE_VERSION = 1
_DATA_INSTALLED = f"{DOMAIN}_blueprint_installed"


@dataclass(frozen=True, slots=True)
class InstallResult:
    """What the install did: `installed`, `updated`, `current` or `kept`."""

    outcome: str
    sha256: str | None  # hash of our copy now in place (None: the owner's file)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def install_blueprint(
    source: Path, target: Path, written_sha256: str | None
) -> InstallResult:
    """Copy `source` to `target` under the policy above (blocking I/O)."""
    bundled = source.read_bytes()
    bundled_sha = _sha256(bundled)
    try:
        current = target.read_bytes()
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_utf8_file(str(target), bundled, mode="wb")
        return InstallResult("installed", bundled_sha)
    current_sha = _sha256(current)
    if current_sha == bundled_sha:
        return InstallResult("current", bundled_sha)
    if written_sha256 is not None and current_sha == written_sha256:
        write_utf8_file(str(target), bundled, mode="wb")
        return InstallResult("updated", bundled_sha)
    return InstallResult("kept", written_sha256)


async def async_install_blueprint(hass: HomeAssistant) -> InstallResult | None:
    """Install or update the blueprint once per Home Assistant run."""
    if hass.data.get(_DATA_INSTALLED):
        return None
    hass.data[_DATA_INSTALLED] = True
    store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
    record = await store.async_load() or {}
    written = record.get(BLUEPRINT_FILE)
    target = Path(hass.config.path(*TARGET_PARTS))
    try:
        result = await hass.async_add_executor_job(
            install_blueprint,
            BUNDLED,
            target,
            written if isinstance(written, str) else None,
        )
    except OSError as err:
        _LOGGER.warning("Could not install the blueprint at %s: %s", target, err)
        return None
    if result.sha256 != written:
        await store.async_save({**record, BLUEPRINT_FILE: result.sha256})
    if result.outcome == "kept":
        _LOGGER.info(
            "Blueprint %s was changed locally; leaving it as it is", BLUEPRINT_PATH
        )
    elif result.outcome == "updated" and "automation" in hass.config.components:
        # pylint: disable-next=import-outside-toplevel
        from homeassistant.components.automation.helpers import async_get_blueprints

        await async_get_blueprints(hass).async_reset_cache()
    return result
