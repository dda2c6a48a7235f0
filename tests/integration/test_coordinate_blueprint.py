"""The shipped "Coordinate energy" blueprint: installed on setup, and working.

The integration copies the blueprint into `<config>/blueprints/automation/
energy_coordinator/` (never over a copy the owner changed); HA's blueprint
integration reads it; an automation made from it runs `coordinate` on its time
pattern and when a chosen source changes, for the chosen site.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.config_entries import ConfigEntryState
from homeassistant.setup import async_setup_component

from custom_components.energy_coordinator.blueprint import (
    BLUEPRINT_PATH,
    BUNDLED,
    STORAGE_KEY,
    install_blueprint,
)

from .site_harness import GRID, SiteHarness, site_harness

__all__ = ["site_harness"]

OLD = b"blueprint:\n  name: Coordinate energy (an older release)\n"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _target(config_dir: Path) -> Path:
    return config_dir / "blueprints" / "automation" / BLUEPRINT_PATH


@pytest.mark.parametrize(
    ("existing", "written", "outcome", "ours_after"),
    [
        (None, None, "installed", True),
        ("bundled", None, "current", True),
        ("old", "old", "updated", True),
        ("edited", "old", "kept", False),
        ("edited", None, "kept", False),
    ],
)
def test_install_policy(
    tmp_path: Path,
    existing: str | None,
    written: str | None,
    outcome: str,
    ours_after: bool,
) -> None:
    """Missing or our untouched older copy: write ours; the owner's: keep."""
    contents = {
        "bundled": BUNDLED.read_bytes(),
        "old": OLD,
        "edited": OLD + b"# my change\n",
    }
    target = _target(tmp_path)
    if existing is not None:
        target.parent.mkdir(parents=True)
        target.write_bytes(contents[existing])
    result = install_blueprint(
        BUNDLED, target, _sha(contents[written]) if written else None
    )
    assert result.outcome == outcome
    if ours_after:
        assert target.read_bytes() == BUNDLED.read_bytes()
        assert result.sha256 == _sha(BUNDLED.read_bytes())
    else:
        assert existing is not None
        assert target.read_bytes() == contents[existing]


async def test_installed_on_setup_and_readable(
    site_harness: SiteHarness, hass_storage: dict[str, Any]
) -> None:
    """Setup writes the blueprint and records its hash; HA can load it."""
    h = site_harness
    target = _target(h.config_dir)
    assert not target.exists()
    await h.start()
    assert target.read_bytes() == BUNDLED.read_bytes()
    record = hass_storage[STORAGE_KEY]["data"]
    assert record == {"coordinate_energy.yaml": _sha(BUNDLED.read_bytes())}

    assert await async_setup_component(h.hass, "automation", {})
    blueprint = await async_get_blueprints(h.hass).async_get_blueprint(BLUEPRINT_PATH)
    assert blueprint.name == "Coordinate energy"
    assert set(blueprint.inputs) == {"run_every", "source_entities", "config_entry"}


async def test_owner_copy_is_not_overwritten(
    site_harness: SiteHarness, hass_storage: dict[str, Any]
) -> None:
    """A copy changed after we wrote it stays as the owner left it."""
    h = site_harness
    target = _target(h.config_dir)
    target.parent.mkdir(parents=True)
    edited = OLD + b"# my change\n"
    target.write_bytes(edited)
    hass_storage[STORAGE_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": STORAGE_KEY,
        "data": {"coordinate_energy.yaml": _sha(OLD)},
    }
    await h.start()
    assert target.read_bytes() == edited


async def test_older_copy_is_updated(
    site_harness: SiteHarness, hass_storage: dict[str, Any]
) -> None:
    """Our own untouched copy from an older release is replaced."""
    h = site_harness
    target = _target(h.config_dir)
    target.parent.mkdir(parents=True)
    target.write_bytes(OLD)
    hass_storage[STORAGE_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": STORAGE_KEY,
        "data": {"coordinate_energy.yaml": _sha(OLD)},
    }
    await h.start()
    assert target.read_bytes() == BUNDLED.read_bytes()


async def test_automation_for_a_chosen_site(site_harness: SiteHarness) -> None:
    """Every 5 s and on a grid meter change, for the site given as input."""
    h = site_harness
    entry = await h.start()
    await h.blueprint_automation(
        run_every="/5", sources=[GRID], config_entry=entry.entry_id
    )
    runs = []
    h.site.add_listener(lambda: runs.append(h.site.last.at if h.site.last else None))

    await h.next_run(every=5)
    assert h.site.last is not None
    first = h.site.last.at
    assert first.second % 5 == 0
    await h.next_run(every=5)
    assert (h.site.last.at - first).total_seconds() == 5

    # A grid change runs it between the time triggers.
    before = h.site.last.at
    await h.tick(1)
    assert h.site.last.at == before
    await h.set_number("house_w", 800)
    assert (h.site.last.at - before).total_seconds() == 1
    assert h.site.last.decision.as_dict()["status"]["house_kw"] == 0.8
    assert runs  # the site's listeners (its entities) heard every run


async def test_update_reaches_loaded_automations(
    site_harness: SiteHarness, hass_storage: dict[str, Any]
) -> None:
    """With automations running, HA reads the updated blueprint, not its cache."""
    h = site_harness
    bundled = BUNDLED.read_bytes()
    older = bundled.replace(b"name: Coordinate energy\n", b"name: Older energy\n", 1)
    assert older != bundled
    target = _target(h.config_dir)
    target.parent.mkdir(parents=True)
    target.write_bytes(older)
    hass_storage[STORAGE_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": STORAGE_KEY,
        "data": {"coordinate_energy.yaml": _sha(older)},
    }
    assert await async_setup_component(h.hass, "automation", {})
    blueprints = async_get_blueprints(h.hass)
    assert (await blueprints.async_get_blueprint(BLUEPRINT_PATH)).name == (
        "Older energy"
    )
    await h.start()
    assert target.read_bytes() == bundled
    assert (await blueprints.async_get_blueprint(BLUEPRINT_PATH)).name == (
        "Coordinate energy"
    )


async def test_unwritable_blueprint_folder(
    site_harness: SiteHarness,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A blueprint that cannot be written is a warning; the site runs anyway."""
    h = site_harness
    folder = _target(h.config_dir).parent
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("a file where the folder belongs")
    entry = await h.start()
    assert entry.state is ConfigEntryState.LOADED
    assert "Could not install the blueprint" in caplog.text
    assert STORAGE_KEY not in hass_storage
