"""The integration as an owner meets it in a browser: headless Chromium (Playwright).

The demo's Home Assistant (`demo` fixture: the integration with the household feed,
one OCPP 1.6J and one 2.0.1 simulated charger with a car each) is opened logged in,
at a laptop's and at a phone's width, and each page is checked the way a person
looks at it once it has rendered:
- a charger's device page, the Site device and an EV (loadpoint) device show their
  name and every shown entity by its translated name; the integration's own
  enumerated states (charger status, charge mode, …) show by their translated
  labels, not by the raw state;
- the config flow's first form (the "add integration" dialog) shows its translated
  title and field labels, and no field is marked invalid before anyone typed;
- the options flow's menu shows all six translated entries;
- a dashboard with the plan and flow cards renders them (the charger's name is in
  the card), without "Custom element doesn't exist" or "Configuration error";
- on every page: no raw translation key (`component.energy_coordinator.…`,
  `entity.sensor.…`), no error alert, no toast (HA shows errors in one).

Each page is saved as a PNG in the test's folder; with EC_UPDATE_SCREENSHOTS=1 the
desktop ones (and the phone dashboard) also replace README's docs/screenshots/.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import DOMAIN, Site, save_screenshot
from .page_checks import page_report, problems

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(180)]

#: docs/screenshots/ names (README links them): desktop pages, and the phone dashboard.
DOC_NAMES = {
    ("charger", "desktop"): "charger-device.png",
    ("site", "desktop"): "site-device.png",
    ("ev", "desktop"): "ev-device.png",
    ("config_flow", "desktop"): "config-flow.png",
    ("options", "desktop"): "options.png",
    ("dashboard", "desktop"): "dashboard.png",
    ("dashboard", "phone"): "dashboard-phone.png",
}
#: The demo's dashboard (scripts/demo.py).
DASHBOARD_PATH = "energy-coordinator"


def screenshot_name(what: str, viewport: str) -> str:
    return DOC_NAMES.get((what, viewport), f"{what.replace('_', '-')}-{viewport}.png")


async def settle(page: Any) -> None:
    """Let the frontend finish what it started (fonts, pending renders)."""
    await page.wait_for_load_state("networkidle")
    await page.evaluate("document.fonts.ready.then(() => true)")
    # Dialogs open with an animation; spinners and ripples may run on, so this
    # waits for the finite ones only, and at most a few seconds.
    await page.wait_for_function(
        "() => document.getAnimations().every("
        "(a) => a.effect?.getComputedTiming().iterations === Infinity)",
        timeout=5000,
    )


async def check_page(page: Any, what: str, viewport: str, tmp_path: Path) -> str:
    """Screenshot, then what a person would call broken; returns the page's text."""
    await settle(page)
    save_screenshot(
        await page.screenshot(type="png"),
        screenshot_name(what, viewport),
        tmp_path,
        docs=(what, viewport) in DOC_NAMES,
    )
    report = await page_report(page)
    assert not problems(report), (problems(report), report["text"][:3000])
    return str(report["text"])


async def translations(site: Site, category: str) -> dict[str, str]:
    """The integration's English translations of one category (as the frontend
    loads them), keyed without the `component.energy_coordinator.` prefix."""
    result = await site.ws(
        "frontend/get_translations",
        language="en",
        category=category,
        integration=[DOMAIN],
    )
    prefix = f"component.{DOMAIN}."
    return {
        key.removeprefix(prefix): value
        for key, value in result["resources"].items()
        if key.startswith(prefix)
    }


async def device_expectations(
    site: Site, device: dict[str, Any]
) -> tuple[list[str], dict[str, set[str]]]:
    """The entity names a person sees on the device page, and for each entity
    whose state the integration translates, the labels it may show (a charger's
    status moves on while the page renders: any of its states' labels, never the
    raw state)."""
    registry = await site.ws("config/entity_registry/list")
    states = await site.states()
    labels = await translations(site, "entity")
    device_name = device["name_by_user"] or device["name"]
    names: list[str] = []
    translated: dict[str, set[str]] = {}
    for entry in registry:
        if entry["device_id"] != device["id"] or entry["disabled_by"]:
            continue
        if entry["hidden_by"]:
            continue
        state = states.get(entry["entity_id"])
        assert state is not None, f"{entry['entity_id']} has no state"
        friendly = str(state["attributes"].get("friendly_name", ""))
        name = friendly.removeprefix(device_name).strip() or friendly
        names.append(name)
        domain = entry["entity_id"].split(".")[0]
        prefix = f"entity.{domain}.{entry.get('translation_key')}.state."
        options = {k: v for k, v in labels.items() if k.startswith(prefix)}
        if options and domain in ("sensor", "select"):
            translated[entry["entity_id"]] = set(options.values())
    return names, translated


async def open_device(site: Site, page: Any, device: dict[str, Any]) -> list[str]:
    """A device's page, once its entities have rendered; the names expected."""
    names, _ = await device_expectations(site, device)
    assert names, f"{device['name']} has no entities"
    await page.goto(await site.login_url(f"/config/devices/device/{device['id']}"))
    await page.get_by_text(names[0], exact=True).first.wait_for()
    return names


async def check_device_page(
    site: Site, page: Any, kind: str, viewport: str, tmp_path: Path
) -> str:
    device = site.demo.devices[kind][0]
    names = await open_device(site, page, device)
    text = await check_page(page, kind, viewport, tmp_path)
    lines = set(text.splitlines())
    device_name = device["name_by_user"] or device["name"]
    assert device_name in text, f"device name {device_name!r} not on the page"
    missing = [name for name in names if name not in lines]
    assert not missing, f"entity names not on {device_name}'s page: {missing}"
    # The integration's enumerated states show translated, as a person reads them.
    _, translated = await device_expectations(site, device)
    states = await site.states()
    wrong = {
        entity_id: states[entity_id]["state"]
        for entity_id, labels in translated.items()
        if states[entity_id]["state"] not in ("unknown", "unavailable")
        and not labels & lines
    }
    assert not wrong, f"states not shown translated on {device_name}'s page: {wrong}"
    return text


async def test_charger_device_page(
    site: Site, browser_page: Any, viewport: str, tmp_path: Path
) -> None:
    """A charger's page: its entities by name, its status translated."""
    text = await check_device_page(site, browser_page, "charger", viewport, tmp_path)
    device = site.demo.devices["charger"][0]
    # The device card says what the charger reported at its boot.
    assert device["manufacturer"] and device["manufacturer"] in text
    assert device["model"] and device["model"] in text


async def test_site_device_page(
    site: Site, browser_page: Any, viewport: str, tmp_path: Path
) -> None:
    """The Site device: grid, surplus, the coordinator's status in words."""
    text = await check_device_page(site, browser_page, "site", viewport, tmp_path)
    assert "Coordinator status" in text


async def test_ev_device_page(
    site: Site, browser_page: Any, viewport: str, tmp_path: Path
) -> None:
    """An EV's (loadpoint's) page: charge mode and targets by name."""
    text = await check_device_page(site, browser_page, "ev", viewport, tmp_path)
    for name in ("Charge mode", "Target SoC"):
        assert name in text, name


async def test_config_flow_first_form(
    site: Site, browser_page: Any, viewport: str, tmp_path: Path
) -> None:
    """Add integration → Energy Coordinator: the first form, translated and clean."""
    page = browser_page
    labels = await translations(site, "config")
    title = labels["config.step.user.title"]
    # The fields the first form has, as the flow API describes them.
    form = await site_flow_form(site)
    fields = [labels[f"config.step.user.data.{f['name']}"] for f in form]
    await page.goto(
        await site.login_url("/config/integrations/dashboard/add", f"domain={DOMAIN}")
    )
    # The link asks first ("Do you want to set up Energy Coordinator?").
    await page.get_by_text("Do you want to set up Energy Coordinator?").wait_for()
    await page.get_by_role("button", name=re.compile("^OK$", re.I)).click()
    await page.get_by_text(title, exact=True).first.wait_for()
    await page.get_by_text(fields[0]).first.wait_for()
    try:
        text = await check_page(page, "config_flow", viewport, tmp_path)
        for label in fields:
            assert label in text, f"field {label!r} not in the form"
    finally:
        await abort_user_flows(site)


async def site_flow_form(site: Site) -> list[dict[str, Any]]:
    """The first form's fields (a flow started and aborted over REST)."""
    headers = {"Authorization": f"Bearer {site.token}"}
    flows = f"{site.url}/api/config/config_entries/flow"
    async with site.session.post(
        flows, headers=headers, json={"handler": DOMAIN}
    ) as resp:
        form = await resp.json()
    async with site.session.delete(f"{flows}/{form['flow_id']}", headers=headers):
        pass
    assert form["type"] == "form" and form["step_id"] == "user", form
    return list(form["data_schema"])


async def site_options_menu(site: Site) -> list[str]:
    """The options menu's entries (an options flow started and aborted over REST)."""
    headers = {"Authorization": f"Bearer {site.token}"}
    flows = f"{site.url}/api/config/config_entries/options/flow"
    async with site.session.post(
        flows, headers=headers, json={"handler": site.demo.info["entry_id"]}
    ) as resp:
        menu = await resp.json()
    async with site.session.delete(f"{flows}/{menu['flow_id']}", headers=headers):
        pass
    assert menu["type"] == "menu" and menu["step_id"] == "init", menu
    return list(menu["menu_options"])


async def abort_user_flows(site: Site) -> None:
    """Abort the config flows the browser left open (a person closing the dialog)."""
    headers = {"Authorization": f"Bearer {site.token}"}
    for flow in await site.ws("config_entries/flow/progress"):
        if flow["handler"] == DOMAIN and flow["context"].get("source") == "user":
            async with site.session.delete(
                f"{site.url}/api/config/config_entries/flow/{flow['flow_id']}",
                headers=headers,
            ):
                pass


async def test_options_menu(
    site: Site, browser_page: Any, viewport: str, tmp_path: Path
) -> None:
    """The site's Configure button opens the options menu: every entry the flow
    offers, translated."""
    page = browser_page
    labels = await translations(site, "options")
    entries = [
        labels[f"options.step.init.menu_options.{option}"]
        for option in await site_options_menu(site)
    ]
    await page.goto(await site.login_url(f"/config/integrations/integration/{DOMAIN}"))
    await page.get_by_text("Demo Home").first.wait_for()
    await page.get_by_role("button", name=re.compile("^Configure$")).first.click()
    await page.get_by_text(entries[0], exact=True).first.wait_for()
    text = await check_page(page, "options", viewport, tmp_path)
    assert labels["options.step.init.title"] in text
    lines = set(text.splitlines())
    missing = [entry for entry in entries if entry not in lines]
    assert not missing, f"menu entries not shown: {missing}"


# The dashboard with the integration's cards ------------------------------------
#: The custom elements of custom_components/energy_coordinator/frontend/.
PLAN_CARD = "energy-coordinator-plan-card"
FLOW_CARD = "energy-coordinator-flow-card"

#: Each card's own text (its shadow root, styles left out), drawings and warnings.
CARD_REPORT_JS = """
(tag) => {
  const found = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll("*")) {
      if (el.tagName.toLowerCase() === tag) found.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  const text = (root) => {
    const parts = [];
    const it = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (it.nextNode()) {
      const node = it.currentNode;
      if (node.parentElement?.tagName !== "STYLE") parts.push(node.data);
    }
    return parts.join(" ");
  };
  return found.map((el) => ({
    text: el.shadowRoot ? text(el.shadowRoot) : "",
    svg: el.shadowRoot ? el.shadowRoot.querySelectorAll("svg").length : 0,
    warnings: el.shadowRoot
      ? [...el.shadowRoot.querySelectorAll(".warn")].map((w) => w.textContent)
      : [],
  }));
}
"""


async def demo_dashboard(site: Site) -> str:
    """The dashboard the demo builds (storage mode, both cards); its path."""
    deadline = time.monotonic() + 60
    while True:
        dashboards = await site.ws("lovelace/dashboards/list")
        if any(d["url_path"] == DASHBOARD_PATH for d in dashboards):
            config = await site.ws("lovelace/config", url_path=DASHBOARD_PATH)
            types = [c["type"] for v in config["views"] for c in v["cards"]]
            assert f"custom:{PLAN_CARD}" in types and f"custom:{FLOW_CARD}" in types
            return f"/{DASHBOARD_PATH}/{config['views'][0]['path']}"
        assert time.monotonic() < deadline, "the demo made no dashboard"
        await asyncio.sleep(1)


async def test_dashboard_with_plan_card(
    site: Site, browser_page: Any, viewport: str, tmp_path: Path
) -> None:
    """The plan card draws the plan and the flow card names each charger."""
    page = browser_page
    path = await demo_dashboard(site)
    chargers = [d["name_by_user"] or d["name"] for d in site.demo.devices["charger"]]
    await page.goto(await site.login_url(path))
    await page.locator(PLAN_CARD).locator("svg").first.wait_for()
    for name in chargers:
        await page.locator(FLOW_CARD).get_by_text(name).first.wait_for()
    await check_page(page, "dashboard", viewport, tmp_path)
    plan = await page.evaluate(CARD_REPORT_JS, PLAN_CARD)
    flow = await page.evaluate(CARD_REPORT_JS, FLOW_CARD)
    assert len(plan) == 1 and len(flow) == 1, (plan, flow)
    assert "Energy plan" in plan[0]["text"]
    assert plan[0]["svg"] >= 1, plan
    assert not plan[0]["warnings"] and not flow[0]["warnings"], (plan, flow)
    for name in chargers:
        assert name in flow[0]["text"], (name, flow[0]["text"][:2000])
    # The coordinator's status in words, as its sensor's translation says it.
    states = await site.states()
    registry = await site.ws("config/entity_registry/list")
    status_id = next(
        e["entity_id"]
        for e in registry
        if e["platform"] == DOMAIN and e["translation_key"] == "coordinator_status"
    )
    labels = await translations(site, "entity")
    options = states[status_id]["attributes"]["options"]
    shown = plan[0]["text"] + flow[0]["text"]
    # (The codes with an underscore: "charging" is also a word of the prose.)
    raw = [o for o in options if "_" in o and re.search(rf"\b{o}\b", shown)]
    assert not raw, f"raw coordinator states in the cards: {raw}: {shown[:2000]}"
    assert any(
        labels[f"entity.sensor.coordinator_status.state.{o}"] in shown for o in options
    ), shown[:2000]
    # The charger's name, never its protocol id with a connector number.
    assert not re.search(r"demo-00\d/\d", flow[0]["text"]), flow[0]["text"][:2000]
