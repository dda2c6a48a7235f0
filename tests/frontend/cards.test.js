// The cards' JavaScript, in Node (no npm packages): the file loads with minimal
// stubs of the browser's customElements / HTMLElement, registers both cards in
// window.customCards, validates its config, and turns a sample `get_plan`
// response into the expected geometry. Run by tests/frontend/test_cards_js.py;
// prints "ok N" and exits 0, or throws.
"use strict";
const assert = require("node:assert/strict");
const fs = require("node:fs");
const vm = require("node:vm");

const [, , cardsPath, samplePath] = process.argv;
const defined = new Map();
class FakeElement {
  attachShadow() {
    this.shadowRoot = { innerHTML: "" };
    return this.shadowRoot;
  }
}
const window = {};
const context = {
  window,
  HTMLElement: FakeElement,
  customElements: {
    define(name, cls) {
      if (defined.has(name)) throw new Error(`${name} defined twice`);
      defined.set(name, cls);
    },
    get(name) {
      return defined.get(name);
    },
  },
  Intl,
  Date,
  console,
};
context.globalThis = context;
vm.createContext(context);
const source = fs.readFileSync(cardsPath, "utf8");
vm.runInContext(source, context, { filename: cardsPath });
// Loaded twice (a resource added by hand too): no second definition, no duplicates.
vm.runInContext(source, context, { filename: cardsPath });
let checks = 0;
// Values made in the cards' context have that realm's prototypes: compare as JSON.
const plain = (v) => JSON.parse(JSON.stringify(v));
const same = (a, b) => assert.deepStrictEqual(plain(a), plain(b));
const check = (fn) => {
  fn();
  checks += 1;
};

const api = context.EnergyCoordinatorCards;
check(() => same([...defined.keys()], ["energy-coordinator-plan-card", "energy-coordinator-flow-card"]));
check(() => {
  const types = window.customCards.map((c) => c.type);
  same(types, ["energy-coordinator-plan-card", "energy-coordinator-flow-card"]);
  for (const card of window.customCards) assert.ok(card.name && card.description, card.type);
});

// setConfig validates.
const Plan = defined.get("energy-coordinator-plan-card");
const Flow = defined.get("energy-coordinator-flow-card");
check(() => {
  const card = new Plan();
  card.setConfig({ type: "custom:energy-coordinator-plan-card" });
  assert.equal(card._config.hours, 48);
  card.setConfig({ type: "custom:energy-coordinator-plan-card", entity: "sensor.home_plan", hours: 24 });
  assert.equal(card._config.hours, 24);
  assert.equal(card.getCardSize(), 9);
});
for (const [bad, message] of [
  [null, /needs a config object/],
  [{ type: "x", hours: 0 }, /hours must be a number from 1 to 48/],
  [{ type: "x", hours: "many" }, /hours must be a number from 1 to 48/],
  [{ type: "x", hours: 72 }, /hours must be a number from 1 to 48/],
  [{ type: "x", entity: "light.kitchen" }, /entity must be the plan sensor's id/],
  [{ type: "x", entity: 3 }, /entity must be the plan sensor's id/],
  [{ type: "x", colour: "red" }, /unknown option colour/],
]) {
  check(() => assert.throws(() => new Plan().setConfig(bad), message));
}
check(() => {
  const card = new Flow();
  card.setConfig({ type: "custom:energy-coordinator-flow-card", entity: "sensor.home_coordinator_status" });
  assert.equal(card.getCardSize(), 6);
  assert.throws(() => card.setConfig({ type: "x", entity: "switch.x" }), /coordinator status sensor's id/);
  assert.throws(() => card.setConfig({ type: "x", hours: 3 }), /unknown option hours/);
});

// A sample get_plan response: 8 hours from 22:00 UTC, an EV charging 01:00-03:00
// at 11 kW and 03:00-03:15 at 5 kW, with 80 % by 07:00; a battery.
const sample = JSON.parse(fs.readFileSync(samplePath, "utf8"));
const series = api.planFromResponse(sample);
const t0 = Date.parse("2026-01-12T22:00:00+00:00");
check(() => {
  assert.equal(series.start, t0);
  assert.equal(series.step, 15 * 60 * 1000);
  assert.equal(series.times.length, 32);
  assert.equal(series.end, t0 + 8 * 3600 * 1000);
  same(Object.keys(series.ev), ["SIM1/1"]);
  assert.equal(series.goals[0].name, "Garage");
});
check(() => {
  const blocks = api.evBlocks(series, "SIM1/1");
  same(
    blocks.map((b) => [b.first, b.last, new Date(b.start).toISOString(), new Date(b.end).toISOString(), b.kw, b.kwh]),
    [[12, 20, "2026-01-13T01:00:00.000Z", "2026-01-13T03:15:00.000Z", 11, 23.25]]
  );
});
const now = t0 + 30 * 60 * 1000; // 22:30
const geometry = api.planGeometry(series, { width: 360, now, hours: 48 });
check(() => {
  // 8 h over the 288-unit plot from x=34: 36 units per hour.
  assert.equal(geometry.t1, series.end);
  assert.equal(geometry.nowX, 34 + 0.5 * 36);
  const [lane] = geometry.ev;
  assert.equal(lane.name, "Garage");
  assert.equal(lane.blocks.length, 1);
  assert.equal(lane.blocks[0].x, 34 + 3 * 36);
  assert.equal(lane.blocks[0].width, 2.25 * 36);
  assert.equal(lane.kwh, 23.3);
  assert.equal(lane.target.x, 34 + 9 * 36 > 322 ? 322 : 34 + 9 * 36);
  assert.equal(lane.target.inside, false); // 07:00 is past the 8 h shown
  assert.equal(lane.target.soc, 80);
  assert.equal(lane.target.label, "80 % 07:00");
});
check(() => {
  // Ticks every 6 h on the (UTC) clock: 00:00 and 06:00.
  same(geometry.ticks.map((t) => [t.x, t.label]), [[34 + 2 * 36, "00:00"], [34 + 8 * 36, "06:00"]]);
  // Power axis up to the EV's 11 kW (rounded up to 20); PV is all zero at night.
  assert.equal(geometry.power.max, 20);
  assert.equal(geometry.power.pvArea, "");
  // The EVs' total as an area: 11 kW of 20 from 01:00 (x=142) to 03:00 (x=214), then 5 kW.
  const y11 = 54.5; // 104 - 11 / 20 * 90
  assert.ok(geometry.power.evArea.startsWith("M34,104L34,104"), geometry.power.evArea.slice(0, 30));
  assert.ok(geometry.power.evArea.includes(`L142,${y11}L151,${y11}`), geometry.power.evArea);
  assert.ok(geometry.power.evArea.endsWith("L322,104Z"));
  // The price step line starts at the first slot's price (the top: 0.30 is the max).
  assert.ok(geometry.price.path.startsWith(`M34,${geometry.price.top}L43,${geometry.price.top}`), geometry.price.path.slice(0, 40));
  assert.equal(geometry.price.max, 0.3);
  // The battery's SoC: 50 % at the end of the first slot.
  assert.ok(geometry.soc.path.startsWith(`M43,${(geometry.soc.top + geometry.soc.bottom) / 2}`), geometry.soc.path.slice(0, 30));
});
check(() => {
  // A plan without real prices (no price source): no price panel, the SoC moves up.
  const nominal = api.planFromResponse({ ...sample, currency: null, expected_cost: null });
  const g = api.planGeometry(nominal, { width: 360, now, hours: 48 });
  assert.equal(g.price.shown, false);
  assert.equal(g.price.path, "");
  assert.equal(g.soc.top, g.power.bottom + 18);
  assert.doesNotMatch(api.renderPlanSvg(g), /class="price"/);
  assert.equal(geometry.price.shown, true);
});
check(() => {
  // A shorter window cuts blocks and the axis; the target is then outside too.
  const short = api.planGeometry(series, { width: 360, now, hours: 4 });
  assert.equal(short.t1, t0 + 4 * 3600 * 1000);
  assert.equal(short.ev[0].blocks[0].x, 34 + 3 * 72);
  assert.equal(short.ev[0].blocks[0].width, 72); // 01:00-02:00, cut at the window's end
  same(short.ticks.map((t) => t.label), ["00:00"]);
});
check(() => {
  const svg = api.renderPlanSvg(geometry);
  assert.match(svg, /^<svg class="plan" viewBox="0 0 360 \d+(\.\d+)?"/);
  assert.equal((svg.match(/<rect class="ev"/g) || []).length, 1);
  assert.match(svg, /Garage · 23\.3 kWh/);
  assert.match(svg, /class="now"/);
});
// The same plan from the sensor's columns gives the same blocks.
check(() => {
  const columns = {
    start: sample.slots[0].start,
    step_minutes: 15,
    import_price: sample.slots.map((s) => s.import_price),
    export_price: sample.slots.map((s) => s.export_price),
    pv_kw: sample.slots.map((s) => s.pv_kw),
    load_kw: sample.slots.map((s) => s.load_kw),
    grid_kw: sample.slots.map((s) => s.grid_import_kw - s.grid_export_kw),
    battery_soc_pct: sample.slots.map((s) => s.battery_soc_pct),
    ev_kw: { "SIM1/1": sample.slots.map((s) => s.ev_kw["SIM1/1"]) },
  };
  const fromAttributes = api.planFromAttributes({ status: "optimal", slots: columns, goals: [{ id: "SIM1/1", kind: "ev", met: true, target_soc_pct: 80, planned_soc_pct: 80, deadline: sample.goals[0].deadline }] });
  same(api.evBlocks(fromAttributes, "SIM1/1"), api.evBlocks(series, "SIM1/1"));
  assert.equal(fromAttributes.end, series.end);
});
// Escaping: names from the registry never become markup.
check(() => {
  const g = api.planGeometry(series, { now, names: { "SIM1/1": "<img src=x onerror=alert(1)>" } });
  assert.doesNotMatch(api.renderPlanSvg(g), /<img/);
});

// The flow: directions and values.
check(() => {
  const model = api.flowModel({ pv_w: 4200, house_w: 800, battery_w: -1500, grid_w: -2000, soc_pct: 61.4, evs: [{ id: "SIM1/1", name: "Garage", power_w: 4900, charging: true }] });
  const by = Object.fromEntries(model.nodes.map((n) => [n.key, n]));
  assert.equal(by.pv.direction, "in");
  assert.equal(by.pv.kw, 4.2);
  assert.equal(by.grid.direction, "out"); // exporting
  assert.equal(by.grid.kw, 2);
  assert.equal(by.battery.direction, "in"); // discharging into the site
  assert.equal(by.battery.soc, 61);
  assert.equal(by.house.direction, "out");
  assert.equal(by["ev:SIM1/1"].kw, 4.9);
  assert.equal(by["ev:SIM1/1"].charging, true);
  const svg = api.renderFlowSvg(model);
  assert.match(svg, /Garage/);
  assert.match(svg, /4\.90 kW/);
  assert.match(svg, /export/);
});
check(() => {
  const many = api.flowModel({ pv_w: 0, evs: [1, 2, 3, 4].map((i) => ({ id: `C${i}/1`, name: `C${i}`, power_w: 1000 * i, charging: true })) });
  const evs = many.nodes.filter((n) => n.key.startsWith("ev:"));
  assert.equal(evs.length, 1);
  assert.equal(evs[0].kw, 10);
  assert.equal(many.nodes.find((n) => n.key === "battery"), undefined); // no battery configured
});

// Entities found in a hass object's registries.
const hass = {
  states: {
    "sensor.home_plan": { state: "2026-01-13T01:00:00+00:00", attributes: { status: "optimal", planned_at: "x", goals_total: 1 } },
    "sensor.home_coordinator_status": { state: "charging", attributes: { codes: [], explanation: [], summary: "s", loadpoints: [{ id: "SIM1/1", name: "SIM1", charger_device_id: "dev-charger", power_entity: "sensor.sim1_power", power_kw: 1.0, charging: true, reason: "Garage charges." }] } },
    "sensor.home_solar_power": { state: "3200", attributes: { unit_of_measurement: "W" } },
    "sensor.other_solar_power": { state: "1", attributes: {} },
    "sensor.sim1_power": { state: "7.4", attributes: { unit_of_measurement: "kW" } },
  },
  entities: {
    "sensor.home_plan": { entity_id: "sensor.home_plan", platform: "energy_coordinator", translation_key: "plan", device_id: "dev-site" },
    "sensor.home_coordinator_status": { entity_id: "sensor.home_coordinator_status", platform: "energy_coordinator", translation_key: "coordinator_status", device_id: "dev-site" },
    "sensor.home_solar_power": { entity_id: "sensor.home_solar_power", platform: "energy_coordinator", translation_key: "solar_power", device_id: "dev-solar" },
    "sensor.other_solar_power": { entity_id: "sensor.other_solar_power", platform: "energy_coordinator", translation_key: "solar_power", device_id: "dev-other-solar" },
  },
  devices: {
    "dev-site": { id: "dev-site", name: "Home", config_entries: ["entry1"] },
    "dev-solar": { id: "dev-solar", name: "Solar", via_device_id: "dev-site" },
    "dev-other-solar": { id: "dev-other-solar", name: "Solar", via_device_id: "dev-other-site" },
    "dev-charger": { id: "dev-charger", name: "SIM1", name_by_user: "Garage" },
  },
};
check(() => {
  assert.equal(api.findPlanEntity(hass), "sensor.home_plan");
  assert.equal(api.findStatusEntity(hass, "sensor.home_plan"), "sensor.home_coordinator_status");
  same(api.siteSensors(hass, "sensor.home_coordinator_status"), { pv: "sensor.home_solar_power" });
  assert.equal(api.siteEntryId(hass, "sensor.home_plan"), "entry1");
  same(Plan.getStubConfig(hass), { entity: "sensor.home_plan", hours: 48 });
  same(Flow.getStubConfig(hass), { entity: "sensor.home_coordinator_status" });
  const [ev] = api.flowEvs(hass, hass.states["sensor.home_coordinator_status"]);
  assert.equal(ev.name, "Garage"); // the device's name as the owner renamed it
  assert.equal(ev.power_w, 7400); // live, from the charger's power sensor (kW)
});

// The plan card asks for the plan once per plan change, with the site's entry id.
const calls = [];
hass.callWS = async (msg) => {
  calls.push(msg);
  if (msg.service === "get_plan") return { context: {}, response: sample };
  return { context: {}, response: { language: "en", summary: "Expected cost 1.20 EUR.", reasons: [{ code: "plan_summary", subject: "site", message: "Expected cost 1.20 EUR." }] } };
};
// In HA's frontend the app replaces window.customElements (a scoped registry) when
// it starts; loaded before that, the cards wait for HA's root element and define
// themselves in the registry in place then.
function registry() {
  const defs = new Map();
  const waiting = new Map();
  return {
    defs,
    define(name, cls) {
      if (defs.has(name)) throw new Error(`${name} defined twice`);
      defs.set(name, cls);
      (waiting.get(name) || []).forEach((resolve) => resolve(cls));
    },
    get: (name) => defs.get(name),
    whenDefined(name) {
      if (defs.has(name)) return Promise.resolve(defs.get(name));
      return new Promise((resolve) => waiting.set(name, [...(waiting.get(name) || []), resolve]));
    },
  };
}
async function early() {
  const native = registry();
  const win = { customElements: native };
  const ctx = { window: win, HTMLElement: FakeElement, customElements: native, Intl, Date, console, setTimeout, clearTimeout };
  ctx.globalThis = ctx;
  vm.createContext(ctx);
  vm.runInContext(source, ctx, { filename: cardsPath });
  assert.equal(native.get("energy-coordinator-plan-card"), undefined);
  assert.equal(win.customCards.length, 2); // in the picker list at once
  const scoped = registry();
  win.customElements = scoped; // HA's app starts
  scoped.define("home-assistant", class {});
  native.define("home-assistant", class {});
  await new Promise((r) => setTimeout(r, 0));
  assert.ok(scoped.get("energy-coordinator-plan-card"));
  assert.ok(scoped.get("energy-coordinator-flow-card"));
  assert.equal(native.get("energy-coordinator-plan-card"), undefined);
  checks += 1;
}

(async () => {
  await early();
  const card = new Plan();
  card.setConfig({ type: "custom:energy-coordinator-plan-card" });
  card.hass = hass;
  card.hass = { ...hass }; // another update, same plan state: no second call
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(calls.length, 2);
  same(calls.map((c) => [c.type, c.domain, c.service, c.service_data, c.return_response]), [
    ["call_service", "energy_coordinator", "get_plan", { config_entry_id: "entry1" }, true],
    ["call_service", "energy_coordinator", "explain_plan", { config_entry_id: "entry1" }, true],
  ]);
  const html = card.shadowRoot.innerHTML;
  assert.match(html, /<ha-card>/);
  assert.match(html, /Expected cost 1\.20 EUR\./);
  assert.match(html, /Now: charging/);
  assert.match(html, /<rect class="ev"/);
  checks += 1;
  hass.states["sensor.home_plan"] = { ...hass.states["sensor.home_plan"], state: "2026-01-13T02:00:00+00:00", last_changed: "later" };
  card.hass = { ...hass };
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(calls.length, 4);
  checks += 1;
  const flow = new Flow();
  flow.setConfig({ type: "custom:energy-coordinator-flow-card" });
  flow.hass = hass;
  assert.match(flow.shadowRoot.innerHTML, /<b>Garage<\/b>: charging, 7\.4 kW/);
  assert.match(flow.shadowRoot.innerHTML, /Garage charges\./);
  checks += 1;
  // The entity registry and translations arrive after the first render (the same
  // states): both cards show the coordinator status in words then.
  const translated = {
    ...hass,
    formatEntityState: (s) => (s.state === "charging" ? "Charging now" : s.state),
  };
  card.hass = translated;
  flow.hass = translated;
  assert.match(card.shadowRoot.innerHTML, /Now: Charging now/);
  assert.match(flow.shadowRoot.innerHTML, /Charging now/);
  checks += 1;
  console.log(`ok ${checks}`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
