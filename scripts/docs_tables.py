"""The reference tables in docs/, generated from the integration's own files.

Owns the parts of the documentation that the code already states: every field of
the config, reconfigure, options and flexible-load forms (from the forms'
schemas: default, unit, range, choices; labels and help from strings.json), every
entity (from the entity descriptions: device, platform, unit, category, whether it
starts disabled), every action (services.yaml, strings.json, and how it is
registered: response data, administrators only) and every repair issue
(strings.json). Each table sits in a docs/*.md file between
`<!-- generated:NAME -->` and `<!-- /generated:NAME -->`; the prose around it is
written by hand.

    .venv/bin/python scripts/docs_tables.py          # rewrite the tables
    .venv/bin/python scripts/docs_tables.py --check  # exit 1 if one is stale

tests/scripts/test_docs.py runs the check, so the docs cannot drift from the code.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import re
import sys
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import voluptuous as vol
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COMPONENT = ROOT / "custom_components" / "energy_coordinator"
DOCS = ROOT / "docs"
STRINGS: dict[str, Any] = json.loads(
    (COMPONENT / "strings.json").read_text(encoding="utf-8")
)
CURRENCY = "EUR"
#: The loadpoint the probed forms are shown for (a list of the site's loadpoints).
FAKE_LOADPOINT = "<charger id>/<connector>"
DASH = "\N{EN DASH}"

#: The file each generated block lives in.
BLOCKS = {
    "config-flow": "configuration.md",
    "options-flow": "configuration.md",
    "flexible-load": "configuration.md",
    "entities": "entities.md",
    "actions": "actions.md",
    "repairs": "troubleshooting.md",
    "ocpp-messages": "chargers.md",
    "simulator-quirks": "chargers.md",
}


# Forms ---------------------------------------------------------------------------


class _Probe:
    """Stands in for a flow: runs one of its steps and keeps the form it shows.

    A step's method is called with this object as `self`; attributes it lacks
    come from the flow class (its helpers, bound to the probe).
    """

    def __init__(self, flow: type, **attrs: Any) -> None:
        self._flow = flow
        self.shown: dict[str, Any] = {}
        self.__dict__.update(attrs)

    def __getattr__(self, name: str) -> Any:
        attr = inspect.getattr_static(self._flow, name)
        if isinstance(attr, staticmethod):
            return attr.__func__
        if inspect.isfunction(attr):
            return types.MethodType(attr, self)
        return getattr(self._flow, name)

    def async_show_form(self, **kwargs: Any) -> dict[str, Any]:
        self.shown = kwargs
        return kwargs

    def async_show_menu(self, **kwargs: Any) -> dict[str, Any]:
        self.shown = kwargs
        return kwargs


def _fake_entry() -> Any:
    from custom_components.energy_coordinator.site.settings import LoadpointSettings

    site = types.SimpleNamespace(
        settings=lambda _lp: LoadpointSettings(),
        loadpoint_connectors=lambda: [(FAKE_LOADPOINT, None, None)],
    )
    from homeassistant.config_entries import ConfigEntryState

    return types.SimpleNamespace(
        data={},
        options={},
        title="Home",
        entry_id="entry",
        state=ConfigEntryState.LOADED,
        subentries={},
        runtime_data=types.SimpleNamespace(site=site),
    )


def _form(flow: type, step: str, **attrs: Any) -> vol.Schema | None:
    """The schema the flow's step shows first (None for a menu)."""
    entry = _fake_entry()
    hass = types.SimpleNamespace(
        config=types.SimpleNamespace(currency=CURRENCY),
        states=types.SimpleNamespace(get=lambda _e: None),
    )
    defaults: dict[str, Any] = {
        "hass": hass,
        "config_entry": entry,
        "_get_reconfigure_entry": lambda: entry,
        "_get_entry": lambda: entry,
        "_get_reconfigure_subentry": lambda: types.SimpleNamespace(
            data={}, subentry_id="subentry"
        ),
        "_loadpoint": FAKE_LOADPOINT,
        "_planning": None,
        "_discovery": {},
        "_data": {},
    }
    probe = _Probe(flow, **(defaults | attrs))
    if not hasattr(flow, f"async_step_{step}"):
        return None
    asyncio.run(getattr(flow, f"async_step_{step}")(probe, None))
    schema = probe.shown.get("data_schema")
    return schema if isinstance(schema, vol.Schema) else None


def _planning_sources_form() -> vol.Schema:
    """The second planning form with every field any choice can show."""
    from custom_components.energy_coordinator import const
    from custom_components.energy_coordinator.config_flow import (
        EnergyCoordinatorOptionsFlow,
    )

    fields: dict[Any, Any] = {}
    for price in (const.PRICE_FIXED, const.PRICE_TOU, const.PRICE_ENTITY):
        choices = {
            const.CONF_PRICE_SOURCE: price,
            const.CONF_EXPORT_SOURCE: price,
            const.CONF_PV_FORECAST: const.PV_FORECAST_ENTITY,
        }
        schema = _form(
            EnergyCoordinatorOptionsFlow, "planning_sources", _planning=choices
        )
        assert schema is not None
        fields |= schema.schema
    return vol.Schema(fields)


def _selector_text(selector: Any, section: str = "") -> str:
    """What a field takes, in a few words."""
    from homeassistant.helpers import selector as sel

    config = dict(getattr(selector, "config", {}))
    if isinstance(selector, sel.NumberSelector):
        unit = config.get("unit_of_measurement")
        low, high, step = config.get("min"), config.get("max"), config.get("step")
        text = f"number {_num(low)}{DASH}{_num(high)}"
        if step not in (None, 1, 1.0):
            text += f", step {_num(step)}"
        return text + (f" {unit}" if unit else "")
    if isinstance(selector, sel.SelectSelector):
        key = config.get("translation_key")
        labels = STRINGS.get("selector", {}).get(key, {}).get("options", {})
        options = []
        for option in config.get("options", []):
            value = option["value"] if isinstance(option, dict) else option
            label = labels.get(str(value))
            options.append(f"`{value}` ({label})" if label else f"`{value}`")
        if config.get("options") == [FAKE_LOADPOINT]:
            return "one of the site's loadpoints (`<charger id>/<connector>`)"
        return "one of " + ", ".join(options)
    if isinstance(selector, sel.EntitySelector):
        filters = config.get("filter") or [config]
        parts = []
        for item in filters:
            domain = item.get("domain")
            domains = domain if isinstance(domain, list) else [domain] if domain else []
            text = " or ".join(f"`{d}`" for d in domains) or "any"
            if item.get("device_class") and item.get("domain"):
                dc = item["device_class"]
                dcs = dc if isinstance(dc, list) else [dc]
                text += " (device class " + ", ".join(dcs) + ")"
            parts.append(text)
        many = "entities" if config.get("multiple") else "entity"
        return f"{' / '.join(parts)} {many}"
    if isinstance(selector, sel.TextSelector):
        kind = config.get("type")
        if kind == "password":
            return "password"
        return "text, several lines" if config.get("multiline") else "text"
    if isinstance(selector, sel.BooleanSelector):
        return "on/off"
    if isinstance(selector, sel.TimeSelector):
        return "time of day"
    return type(selector).__name__


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _default(marker: Any) -> str:
    default = getattr(marker, "default", vol.UNDEFINED)
    if default is vol.UNDEFINED:
        return "—"
    value = default() if callable(default) else default
    if value == FAKE_LOADPOINT:
        return "the first"
    if value in (None, ""):
        return "empty"
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"`{_num(value)}`"


def _md(text: str) -> str:
    text = re.sub(r"\{(\w+)\}", lambda m: m.group(1).upper(), str(text))
    return " ".join(text.split()).replace("|", "\\|")


def _fields_table(strings: dict[str, Any], schema: vol.Schema | None) -> list[str]:
    data = strings.get("data", {})
    help_ = strings.get("data_description", {})
    markers = {}
    if schema is not None:
        markers = {
            str(marker.schema): (marker, value)
            for marker, value in schema.schema.items()
        }
    keys = list(markers) + [k for k in data if k not in markers]
    lines = [
        "| Field | Option key | Takes | Default | Meaning |",
        "|---|---|---|---|---|",
    ]
    for key in keys:
        marker, selector = markers.get(key, (None, None))
        takes = _selector_text(selector) if selector is not None else "—"
        default = _default(marker) if marker is not None else "—"
        if marker is not None and isinstance(marker, vol.Optional) and default == "—":
            default = "optional"
        lines.append(
            f"| {_md(data.get(key, key))} | `{key}` | {_md(takes)} | {default} "
            f"| {_md(help_.get(key, ''))} |"
        )
    return lines


def _step_section(
    level: str, strings: dict[str, Any], step: str, schema: vol.Schema | None
) -> list[str]:
    title = strings.get("title", step)
    lines = [f"{level} {_md(title)} (`{step}`)", ""]
    if description := strings.get("description"):
        lines += [_md(description.replace("{currency}", CURRENCY)), ""]
    if "menu_options" in strings:
        lines += ["A menu:", ""]
        lines += [
            f"- {_md(label)} (`{key}`)"
            for key, label in strings["menu_options"].items()
        ]
        return [*lines, ""]
    if not strings.get("data"):
        return lines
    return [*lines, *_fields_table(strings, schema), ""]


def render_config_flow() -> str:
    from custom_components.energy_coordinator.config_flow import (
        EnergyCoordinatorConfigFlow,
    )

    steps = STRINGS["config"]["step"]
    options = STRINGS["options"]["step"]
    lines: list[str] = []
    for step, strings in steps.items():
        same = options.get(step)
        if same is not None and same.get("data") == strings.get("data"):
            title = same.get("title", step)
            lines += [
                f"**{_md(strings.get('title', step))}** (`{step}`): the same fields "
                f"as the options step [{_md(title)}](#{_anchor(title, step)}), "
                "where they can be changed later.",
                "",
            ]
            continue
        schema = (
            _form(EnergyCoordinatorConfigFlow, step) if strings.get("data") else None
        )
        lines += _step_section("###", strings, step, schema)
    return "\n".join(lines)


def _anchor(title: str, step: str) -> str:
    text = f"{title} ({step})".lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def render_options_flow() -> str:
    from custom_components.energy_coordinator.config_flow import (
        EnergyCoordinatorOptionsFlow,
    )

    lines: list[str] = []
    for step, strings in STRINGS["options"]["step"].items():
        if step == "planning_sources":
            schema: vol.Schema | None = _planning_sources_form()
        elif strings.get("data"):
            schema = _form(EnergyCoordinatorOptionsFlow, step)
        else:
            schema = None
        lines += _step_section("###", strings, step, schema)
    return "\n".join(lines)


def render_flexible_load() -> str:
    from custom_components.energy_coordinator.config_flow import FlexibleLoadFlow

    strings = STRINGS["config_subentries"]["flexible_load"]["step"]["user"]
    return "\n".join(
        _step_section("###", strings, "user", _form(FlexibleLoadFlow, "user"))
    )


# Entities ------------------------------------------------------------------------


@dataclass(frozen=True)
class EntityGroup:
    """Entities of one device type on one platform."""

    device: str
    platform: str
    descriptions: tuple[Any, ...]


REPORTED = "created once the charger first reports it"
CONFIGURED = "only when the matching measurement is configured"
PHASES = "attributes `l1`, `l2`, `l3`"
FOR_TARGET = (
    "created once the loadpoint charges to a target (mode plan or a target time)"
)
FOR_SOC = (
    "created once the loadpoint charges to a target or its vehicle's SoC is known "
    "(reported by the charger, or a vehicle SoC entity)"
)
#: Why an entity exists only sometimes, or what else it carries, by device and key.
NOTES: dict[tuple[str, str], str] = {
    ("Charger", "firmware_status"): REPORTED,
    ("Charger", "connected"): "attribute `ocpp_version`",
    ("Connector", "soc"): REPORTED,
    ("Connector", "current_offered"): REPORTED,
    ("Connector", "temperature"): REPORTED,
    ("Connector", "current"): PHASES,
    ("Connector", "voltage"): PHASES,
    ("Connector", "error_code"): "attributes `vendor_error_code`, `info`",
    ("Connector", "energy"): (
        "monotonic: never steps back, even when the charger's meter resets"
    ),
    ("Connector", "charge"): (
        "on starts a session, off stops it (on a coordinated EV: sets its mode)"
    ),
    ("Site", "grid_power"): CONFIGURED,
    ("Site", "surplus_power"): CONFIGURED,
    ("Site", "coordinator_status"): (
        "attributes `summary`, `codes`, `explanation`, `errors`, `battery`, "
        "`loads`, `vehicles`, `charging`"
    ),
    ("Site", "plan"): (
        "when the site plans (grid or PV measured); attributes: see "
        "[the planner](planner.md#the-plan-sensor)"
    ),
    ("Site", "grid_limit"): (
        "in A or kW, as the grid limit unit option says (one entity)"
    ),
    ("Solar", "solar_energy_today"): (
        "integrated from the PV power, kept across restarts; starts at 0 each day"
    ),
    ("Home battery", "battery_soc"): CONFIGURED,
    ("Home battery", "battery_power"): CONFIGURED,
    ("Home battery", "battery_command"): (
        "the coordinator's command; choosing one sends it as a one-off command"
    ),
    ("House load", "house_power"): (
        "attribute `derived`: true when computed from grid + PV - battery - chargers"
    ),
    ("House load", "shed_power"): "attribute `loads`: the flexible loads switched off",
    ("EV (loadpoint)", "vehicle_soc"): (
        "from the vehicle SoC entity (options, Vehicles), the charger, or an "
        f"estimate; {FOR_SOC}"
    ),
    ("EV (loadpoint)", "min_soc"): FOR_SOC,
    ("EV (loadpoint)", "target_soc"): FOR_SOC,
    ("EV (loadpoint)", "vehicle_capacity"): FOR_SOC,
    ("EV (loadpoint)", "target_time"): FOR_TARGET,
    ("EV (loadpoint)", "clear_target_time"): FOR_TARGET,
}


def entity_groups() -> list[EntityGroup]:
    """Every entity description, by device type (the order of the docs)."""
    from custom_components.energy_coordinator import (
        binary_sensor,
        button,
        datetime,
        number,
        plan_sensor,
        select,
        sensor,
        site_number,
        site_sensor,
        switch,
    )
    from custom_components.energy_coordinator.site_entity import (
        BATTERY,
        HOUSE,
        SITE,
        SOLAR,
    )

    def part(name: str) -> tuple[Any, ...]:
        return tuple(d for d in site_sensor.SITE_SENSORS if d.part == name)

    charger, connector, ev = "Charger", "Connector", "EV (loadpoint)"
    return [
        EntityGroup(charger, "sensor", sensor.CHARGER_SENSORS),
        EntityGroup(charger, "binary_sensor", binary_sensor.CHARGER_BINARY_SENSORS),
        EntityGroup(charger, "button", button.CHARGER_BUTTONS),
        EntityGroup(connector, "sensor", sensor.CONNECTOR_SENSORS),
        EntityGroup(connector, "binary_sensor", binary_sensor.CONNECTOR_BINARY_SENSORS),
        EntityGroup(connector, "switch", switch.CONNECTOR_SWITCHES),
        EntityGroup(connector, "number", number.CONNECTOR_NUMBERS),
        EntityGroup(connector, "button", button.CONNECTOR_BUTTONS),
        EntityGroup("Site", "sensor", (*part(SITE), plan_sensor.PLAN)),
        EntityGroup(
            "Site", "number", (site_number.GRID_LIMIT_A, site_number.GRID_LIMIT_KW)
        ),
        EntityGroup("Solar", "sensor", (*part(SOLAR), site_sensor.SOLAR_ENERGY_TODAY)),
        EntityGroup("Home battery", "sensor", part(BATTERY)),
        EntityGroup("Home battery", "select", (select.BATTERY_COMMAND,)),
        EntityGroup("House load", "sensor", part(HOUSE)),
        EntityGroup(
            ev, "sensor", (*site_sensor.LOADPOINT_SENSORS, site_sensor.VEHICLE_SOC)
        ),
        EntityGroup(ev, "select", select.LOADPOINT_SELECTS),
        EntityGroup(ev, "number", site_number.LOADPOINT_NUMBERS),
        EntityGroup(ev, "datetime", datetime.DESCRIPTIONS),
        EntityGroup(ev, "button", button.LOADPOINT_BUTTONS),
    ]


def entity_name(platform: str, description: Any) -> str:
    """The English name Home Assistant shows (translation, else device class)."""
    key = description.translation_key
    if key is not None:
        name = STRINGS["entity"].get(platform, {}).get(key, {}).get("name")
        if name:
            return str(name)
    device_class = getattr(description, "device_class", None)
    if device_class is not None:
        return str(device_class.value).replace("_", " ").capitalize()
    return str(description.key)


def _loadpoint_default(description: Any) -> str:
    from custom_components.energy_coordinator.site.settings import LoadpointSettings

    name = getattr(description, "field", None)
    if name is None:
        return ""
    value = getattr(LoadpointSettings(), name)
    return "default: none" if value is None else f"default `{_num(value)}`"


def render_entities() -> str:
    lines: list[str] = []
    device = ""
    seen: set[tuple[str, str]] = set()
    for group in entity_groups():
        if group.device != device:
            device = group.device
            lines += [
                "",
                f"### {device}",
                "",
                "| Entity | Platform | Key | Unit | Device class | Category "
                "| Enabled by default | Notes |",
                "|---|---|---|---|---|---|---|---|",
            ]
        for description in group.descriptions:
            if (group.platform, description.key + device) in seen:
                continue
            seen.add((group.platform, description.key + device))
            unit = getattr(description, "native_unit_of_measurement", None) or ""
            device_class = getattr(description, "device_class", None)
            device_class_text = device_class.value if device_class is not None else ""
            if group.platform == "number" and description.key == "grid_limit":
                unit, device_class_text = "A or kW", "current or power"
            category = description.entity_category
            options = getattr(description, "options", None)
            notes = [NOTES.get((device, description.key), "")]
            if options and group.platform in ("select", "sensor"):
                labels = (
                    STRINGS["entity"]
                    .get(group.platform, {})
                    .get(description.translation_key or "", {})
                    .get("state", {})
                )
                notes.append(
                    "states: " + ", ".join(f"`{o}`" for o in options)
                    if not labels
                    else "states: "
                    + ", ".join(f"`{o}` ({labels.get(o, o)})" for o in options)
                )
            if default := _loadpoint_default(description):
                notes.append(default)
            enabled = "yes" if description.entity_registry_enabled_default else "**no**"
            lines.append(
                f"| {_md(entity_name(group.platform, description))} | {group.platform} "
                f"| `{description.key}` | {unit} "
                f"| {device_class_text} "
                f"| {category.value if category is not None else ''} | {enabled} "
                f"| {_md('; '.join(n for n in notes if n))} |"
            )
    return "\n".join(lines).strip("\n")


# Actions -------------------------------------------------------------------------


def registered_actions() -> dict[str, tuple[str, bool]]:
    """Each action's response support ("none", "optional", "only") and whether
    only administrators may call it, as the integration registers them."""
    from custom_components.energy_coordinator.plan_services import (
        async_setup_plan_services,
    )
    from custom_components.energy_coordinator.services import (
        ADMIN_ACTIONS,
        async_setup_services,
    )
    from custom_components.energy_coordinator.site_services import (
        async_setup_site_services,
    )

    found: dict[str, tuple[str, bool]] = {}

    def register(domain: str, service: str, *_: Any, **kwargs: Any) -> None:
        support = kwargs.get("supports_response")
        found[service] = (
            str(getattr(support, "value", support or "none")),
            service in ADMIN_ACTIONS,
        )

    hass = types.SimpleNamespace(
        services=types.SimpleNamespace(async_register=register)
    )
    for setup in (
        async_setup_services,
        async_setup_site_services,
        async_setup_plan_services,
    ):
        setup(hass)  # type: ignore[arg-type]
    return found


RESPONSE_TEXT = {
    "none": "No response data.",
    "optional": "Returns response data when called with `return_response`.",
    "only": "Returns response data (call it with `return_response`).",
}


def _field_selector(spec: dict[str, Any]) -> str:
    selector = spec.get("selector") or {}
    if not selector:
        return "—"
    kind, config = next(iter(selector.items()))
    config = config or {}
    if kind == "number":
        text = f"number {config.get('min', '')}{DASH}{config.get('max', '')}"
        if config.get("unit_of_measurement"):
            text += f" {config['unit_of_measurement']}"
        return text
    if kind == "select":
        key = config.get("translation_key")
        labels = STRINGS.get("selector", {}).get(key, {}).get("options", {})
        return "one of " + ", ".join(
            f"`{o}`" + (f" ({labels[o]})" if o in labels else "")
            for o in config.get("options", [])
        )
    if kind == "device":
        return "a charger or connector device"
    if kind == "config_entry":
        return "a site (config entry)"
    if kind == "object":
        return "an object (YAML mapping)"
    if kind == "boolean":
        return "true/false"
    if kind == "datetime":
        return "date and time"
    if kind == "text":
        return "text, several" if config.get("multiple") else "text"
    return kind


def _action_default(default: Any) -> str:
    if default is None:
        return "—"
    return f"`{json.dumps(default) if isinstance(default, bool) else default}`"


def render_actions() -> str:
    services = yaml.safe_load((COMPONENT / "services.yaml").read_text(encoding="utf-8"))
    strings = STRINGS["services"]
    registered = registered_actions()
    lines = [
        "| Action | Response | Who may call it |",
        "|---|---|---|",
    ]
    for service in services:
        support, admin = registered.get(service, ("?", False))
        who = "administrators" if admin else "any user"
        lines.append(f"| [`{service}`](#{service}) | {support} | {who} |")
    lines.append("")
    for service, spec in services.items():
        text = strings.get(service, {})
        support, admin = registered.get(service, ("?", False))
        who = "Administrators only." if admin else "Any user."
        lines += [
            f"### `{service}`",
            "",
            f"**{_md(text.get('name', service))}.** {_md(text.get('description', ''))} "
            f"{who} {RESPONSE_TEXT.get(support, support)}",
            "",
        ]
        fields = (spec or {}).get("fields") or {}
        if not fields:
            lines += ["No fields.", ""]
            continue
        lines += [
            "| Field | Required | Takes | Default | Meaning |",
            "|---|---|---|---|---|",
        ]
        for name, raw_spec in fields.items():
            field_spec = raw_spec or {}
            described = text.get("fields", {}).get(name, {})
            default = field_spec.get("default")
            lines.append(
                f"| `{name}` ({_md(described.get('name', name))}) "
                f"| {'yes' if field_spec.get('required') else 'no'} "
                f"| {_md(_field_selector(field_spec))} "
                f"| {_action_default(default)} "
                f"| {_md(described.get('description', ''))} |"
            )
        lines.append("")
    return "\n".join(lines).strip("\n")


# Repairs -------------------------------------------------------------------------


def render_repairs() -> str:
    lines = ["| Issue id | Title | What it says and what to do |", "|---|---|---|"]
    for key, text in STRINGS.get("issues", {}).items():
        lines.append(f"| `{key}` | {_md(text['title'])} | {_md(text['description'])} |")
    return "\n".join(lines)


# Chargers ------------------------------------------------------------------------

CSMS = COMPONENT / "csms"
#: The modules of each OCPP version's charge-point handler and commands.
VERSION_MODULES = {
    "1.6J": ("ocpp16",),
    "2.0.1": (
        "ocpp201",
        "commands201",
        "station201",
        "device_model201",
        "transactions201",
    ),
}


def ocpp_messages() -> dict[str, tuple[list[str], list[str]]]:
    """Per OCPP version: the messages a charger may send (the handlers' `@on`
    actions) and the requests the central system sends (`call.X(` in the code)."""
    import importlib

    result = {}
    for version, modules in VERSION_MODULES.items():
        handled: set[str] = set()
        sent: set[str] = set()
        for name in modules:
            module = importlib.import_module(
                f"custom_components.energy_coordinator.csms.{name}"
            )
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ != module.__name__:
                    continue
                for _, member in inspect.getmembers(cls):
                    if (action := getattr(member, "_on_action", None)) is not None:
                        handled.add(str(action))
            source = (CSMS / f"{name}.py").read_text(encoding="utf-8")
            sent |= set(re.findall(r"\bcall\.([A-Z]\w+)\(", source))
        result[version] = (sorted(handled), sorted(sent))
    return result


def render_ocpp_messages() -> str:
    lines = [
        "| OCPP | Messages a charger sends that are handled "
        "| Requests the central system sends |",
        "|---|---|---|",
    ]
    for version, (handled, sent) in ocpp_messages().items():
        lines.append(f"| {version} | {', '.join(handled)} | {', '.join(sent)} |")
    return "\n".join(lines)


def render_simulator_quirks() -> str:
    from simulator.runner import QUIRKS

    lines = ["| Quirk (`--quirk`) | The charger … |", "|---|---|"]
    for name, text in QUIRKS.items():
        lines.append(f"| `{name}` | {_md(text)} |")
    return "\n".join(lines)


# Files ---------------------------------------------------------------------------

RENDERERS: dict[str, Callable[[], str]] = {
    "config-flow": render_config_flow,
    "options-flow": render_options_flow,
    "flexible-load": render_flexible_load,
    "entities": render_entities,
    "actions": render_actions,
    "repairs": render_repairs,
    "ocpp-messages": render_ocpp_messages,
    "simulator-quirks": render_simulator_quirks,
}


def _block(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- generated:{re.escape(name)} .*?-->\n)(.*?)"
        rf"(<!-- /generated:{re.escape(name)} -->)",
        re.DOTALL,
    )


def updated(text: str, name: str, content: str) -> str:
    """`text` with block `name` replaced by `content` (ValueError: no such block)."""
    pattern = _block(name)
    if not pattern.search(text):
        raise ValueError(f"no <!-- generated:{name} --> block")
    return pattern.sub(
        lambda m: m.group(1) + content + "\n" + m.group(3), text, count=1
    )


def stale(names: Iterable[str] | None = None) -> dict[str, tuple[Path, str, str]]:
    """Blocks whose text differs from what the code says: name → (file, now, wanted)."""
    result = {}
    for name in names or RENDERERS:
        path = DOCS / BLOCKS[name]
        text = path.read_text(encoding="utf-8")
        wanted = updated(text, name, RENDERERS[name]())
        if wanted != text:
            result[name] = (path, text, wanted)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale tables")
    args = parser.parse_args(argv)
    changed = stale()
    if args.check:
        for name, (path, _, _) in changed.items():
            print(f"stale: {path.relative_to(ROOT)} block {name}")
        if changed:
            print("run: .venv/bin/python scripts/docs_tables.py")
        return 1 if changed else 0
    for name, (path, _, _) in changed.items():
        text = path.read_text(encoding="utf-8")
        path.write_text(updated(text, name, RENDERERS[name]()), encoding="utf-8")
        print(f"updated {path.relative_to(ROOT)} ({name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
