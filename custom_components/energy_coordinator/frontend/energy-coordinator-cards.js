/*
 * Energy Coordinator: the Lovelace cards, plain web components (no build step,
 * no imports, nothing fetched from the internet). The integration serves this
 * file at /energy_coordinator/energy-coordinator-cards.js and adds it to every
 * frontend page.
 *
 *   type: custom:energy-coordinator-plan-card   the next hours: prices, PV and
 *     entity: sensor.home_plan   (optional)      load forecast, battery SoC, each
 *     hours: 48                  (optional)      EV's charging blocks and target,
 *                                                now; the decision and the plan's
 *                                                explanation underneath.
 *   type: custom:energy-coordinator-flow-card   now: PV, house, battery, grid and
 *     entity: sensor.home_coordinator_status     each EV as a power flow, and why
 *                                                each car is or is not charging.
 *
 * The data -> geometry code is in pure functions (`EnergyCoordinatorCards` on
 * globalThis) so it can be tested without a browser.
 */

(() => {
  "use strict";

  const DOMAIN = "energy_coordinator";
  const PLAN_CARD = "energy-coordinator-plan-card";
  const FLOW_CARD = "energy-coordinator-flow-card";
  const HOUR = 3600 * 1000;
  const STEP = 15 * 60 * 1000;
  const KW_EPS = 0.01;
  const MAX_HOURS = 48;

  // Pure helpers ---------------------------------------------------------------

  function escapeHtml(value) {
    return String(value == null ? "" : value)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;");
  }

  function toMs(value) {
    if (value == null || value === "") return NaN;
    if (typeof value === "number") return value;
    return Date.parse(value);
  }

  function num(value) {
    const n = typeof value === "number" ? value : parseFloat(value);
    return Number.isFinite(n) ? n : null;
  }

  function round(value, digits) {
    const f = Math.pow(10, digits);
    return Math.round(value * f) / f;
  }

  /** Validate a plan card's config; the normalised config or a clear Error. */
  function validatePlanConfig(config) {
    if (!config || typeof config !== "object" || Array.isArray(config)) {
      throw new Error("energy-coordinator-plan-card: the card needs a config object.");
    }
    const known = ["type", "entity", "hours", "title", "view_layout", "grid_options", "visibility", "layout_options"];
    const unknown = Object.keys(config).filter((k) => !known.includes(k));
    if (unknown.length) {
      throw new Error(
        `energy-coordinator-plan-card: unknown option ${unknown.join(", ")} (options: entity, hours, title).`
      );
    }
    if (config.entity !== undefined && (typeof config.entity !== "string" || !/^sensor\.[a-z0-9_]+$/.test(config.entity))) {
      throw new Error(
        `energy-coordinator-plan-card: entity must be the plan sensor's id (sensor.…), not ${JSON.stringify(config.entity)}.`
      );
    }
    let hours = MAX_HOURS;
    if (config.hours !== undefined) {
      hours = Number(config.hours);
      if (!Number.isFinite(hours) || hours < 1 || hours > MAX_HOURS) {
        throw new Error(
          `energy-coordinator-plan-card: hours must be a number from 1 to ${MAX_HOURS}, not ${JSON.stringify(config.hours)}.`
        );
      }
    }
    if (config.title !== undefined && typeof config.title !== "string") {
      throw new Error("energy-coordinator-plan-card: title must be text.");
    }
    return { ...config, hours };
  }

  /** Validate a flow card's config; the normalised config or a clear Error. */
  function validateFlowConfig(config) {
    if (!config || typeof config !== "object" || Array.isArray(config)) {
      throw new Error("energy-coordinator-flow-card: the card needs a config object.");
    }
    const known = ["type", "entity", "title", "view_layout", "grid_options", "visibility", "layout_options"];
    const unknown = Object.keys(config).filter((k) => !known.includes(k));
    if (unknown.length) {
      throw new Error(
        `energy-coordinator-flow-card: unknown option ${unknown.join(", ")} (options: entity, title).`
      );
    }
    if (config.entity !== undefined && (typeof config.entity !== "string" || !/^sensor\.[a-z0-9_]+$/.test(config.entity))) {
      throw new Error(
        `energy-coordinator-flow-card: entity must be the coordinator status sensor's id (sensor.…), not ${JSON.stringify(config.entity)}.`
      );
    }
    if (config.title !== undefined && typeof config.title !== "string") {
      throw new Error("energy-coordinator-flow-card: title must be text.");
    }
    return { ...config };
  }

  /**
   * The plan as one shape, from a `get_plan` response (rows in `slots`).
   * {start, end, step, times: [ms], importPrice, exportPrice, pv, load, grid,
   *  soc (null where unknown), ev: {id: [kw]}, goals: [{id, name, ...}], meta}
   */
  function planFromResponse(response) {
    const rows = (response && Array.isArray(response.slots) ? response.slots : []).filter(
      (row) => row && Number.isFinite(toMs(row.start))
    );
    const ids = [];
    for (const row of rows) {
      for (const id of Object.keys(row.ev_kw || {})) if (!ids.includes(id)) ids.push(id);
    }
    const ev = {};
    for (const id of ids) ev[id] = rows.map((row) => num((row.ev_kw || {})[id]) || 0);
    const times = rows.map((row) => toMs(row.start));
    const last = rows.length ? toMs(rows[rows.length - 1].end) : NaN;
    const step = rows.length > 1 ? times[1] - times[0] : rows.length ? (last - times[0]) || STEP : STEP;
    return {
      start: times.length ? times[0] : toMs(response && response.start),
      end: Number.isFinite(last) ? last : toMs(response && response.end),
      step,
      times,
      importPrice: rows.map((row) => num(row.import_price)),
      exportPrice: rows.map((row) => num(row.export_price)),
      pv: rows.map((row) => num(row.pv_kw) || 0),
      load: rows.map((row) => num(row.load_kw) || 0),
      grid: rows.map((row) => (num(row.grid_import_kw) || 0) - (num(row.grid_export_kw) || 0)),
      soc: rows.map((row) => num(row.battery_soc_pct)),
      ev,
      goals: normaliseGoals(response && response.goals),
      meta: planMeta(response),
    };
  }

  /** The same shape from the plan sensor's attributes (`slots` in columns). */
  function planFromAttributes(attributes) {
    const columns = (attributes && attributes.slots) || {};
    const start = toMs(columns.start);
    const step = (num(columns.step_minutes) || 15) * 60 * 1000;
    const prices = Array.isArray(columns.import_price) ? columns.import_price : [];
    const n = Number.isFinite(start) ? prices.length : 0;
    const times = [];
    for (let i = 0; i < n; i++) times.push(start + i * step);
    const column = (name, fallback) => {
      const values = Array.isArray(columns[name]) ? columns[name] : [];
      return times.map((_, i) => (values[i] == null ? fallback : num(values[i])));
    };
    const ev = {};
    for (const [id, values] of Object.entries(columns.ev_kw || {})) {
      ev[id] = times.map((_, i) => num((values || [])[i]) || 0);
    }
    return {
      start: n ? start : NaN,
      end: n ? start + n * step : toMs(attributes && attributes.end),
      step,
      times,
      importPrice: column("import_price", null),
      exportPrice: column("export_price", null),
      pv: column("pv_kw", 0),
      load: column("load_kw", 0),
      grid: column("grid_kw", 0),
      soc: column("battery_soc_pct", null),
      ev,
      goals: normaliseGoals(attributes && attributes.goals),
      meta: planMeta(attributes),
    };
  }

  function planMeta(source) {
    const s = source || {};
    return {
      status: s.status || null,
      reason: s.reason || null,
      currency: s.currency || null,
      expectedCost: num(s.expected_cost),
      expectedPvKwh: num(s.expected_pv_kwh),
      selfConsumptionPct: num(s.expected_self_consumption_pct),
      plannedAt: s.planned_at || null,
    };
  }

  function normaliseGoals(goals) {
    return (Array.isArray(goals) ? goals : [])
      .filter((g) => g && g.kind === "ev")
      .map((g) => ({
        id: String(g.id),
        name: g.name || null,
        met: g.met,
        targetSocPct: num(g.target_soc_pct),
        plannedSocPct: num(g.planned_soc_pct),
        deadline: toMs(g.deadline),
      }));
  }

  /** Runs of slots in which an EV charges: [{first, last, start, end, kw}]. */
  function evBlocks(series, id) {
    const power = (series.ev || {})[id] || [];
    const blocks = [];
    for (let i = 0; i < power.length; i++) {
      if (!(power[i] > KW_EPS)) continue;
      const last = blocks[blocks.length - 1];
      if (last && last.last === i - 1) {
        last.last = i;
        last.end = series.times[i] + series.step;
        last.kw = Math.max(last.kw, power[i]);
        last.kwh += power[i] * series.step / HOUR;
      } else {
        blocks.push({
          first: i,
          last: i,
          start: series.times[i],
          end: series.times[i] + series.step,
          kw: power[i],
          kwh: power[i] * series.step / HOUR,
        });
      }
    }
    for (const b of blocks) {
      b.kw = round(b.kw, 2);
      b.kwh = round(b.kwh, 2);
    }
    return blocks;
  }

  /** A round upper bound for an axis: 1, 2, 2.5, 5 times a power of ten. */
  function niceMax(value) {
    if (!(value > 0)) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    for (const m of [1, 2, 2.5, 5, 10]) if (value <= m * power + 1e-9) return m * power;
    return 10 * power;
  }

  function utcHour(ms) {
    const d = new Date(ms);
    return { hour: d.getUTCHours(), minute: d.getUTCMinutes() };
  }

  function utcLabel(ms) {
    const d = new Date(ms);
    const pad = (v) => String(v).padStart(2, "0");
    return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  }

  /**
   * Where everything of the plan is drawn (viewBox units, 1 unit = 1 px at 360 px).
   * options: {width, now (ms), hours, names: {id: name}, clock: ms -> {hour, minute},
   *           timeLabel: ms -> "HH:MM", dayLabel: ms -> "Mon"}
   */
  function planGeometry(series, options) {
    const o = options || {};
    const width = o.width || 360;
    const left = 34;
    const right = 38;
    const plotW = width - left - right;
    const hours = Math.min(MAX_HOURS, o.hours || MAX_HOURS);
    const clock = o.clock || utcHour;
    const timeLabel = o.timeLabel || utcLabel;
    const dayLabel = o.dayLabel || null;
    const names = o.names || {};
    const now = Number.isFinite(o.now) ? o.now : null;
    const t0 = series.start;
    const t1 = Math.min(series.end, t0 + hours * HOUR);
    const span = Math.max(t1 - t0, STEP);
    const x = (t) => round(left + ((t - t0) / span) * plotW, 1);
    const shown = [];
    for (let i = 0; i < series.times.length; i++) if (series.times[i] < t1) shown.push(i);

    // Power: PV area, house load line, total EV charging.
    const power = { top: 14, bottom: 104 };
    const evTotal = shown.map((i) => Object.values(series.ev).reduce((s, v) => s + (v[i] || 0), 0));
    const powerMax = niceMax(Math.max(0, ...shown.map((i) => series.pv[i]), ...shown.map((i) => series.load[i]), ...evTotal));
    power.max = powerMax;
    const py = (kw) => round(power.bottom - (Math.max(0, kw) / powerMax) * (power.bottom - power.top), 1);
    const stepPath = (values, y) => {
      let d = "";
      for (const [k, i] of shown.entries()) {
        const v = values[i];
        if (v == null) continue;
        const xa = x(series.times[i]);
        const xb = x(Math.min(series.times[i] + series.step, t1));
        d += `${d && values[shown[k - 1]] != null ? "L" : "M"}${xa},${y(v)}L${xb},${y(v)}`;
      }
      return d;
    };
    const pvLine = stepPath(series.pv, py);
    const lastEnd = shown.length ? Math.min(series.times[shown[shown.length - 1]] + series.step, t1) : t0;
    const pvArea = shown.length && Math.max(...shown.map((i) => series.pv[i])) > KW_EPS
      ? `M${x(t0)},${power.bottom}${pvLine.replace(/^M/, "L")}L${x(lastEnd)},${power.bottom}Z`
      : "";
    const loadLine = stepPath(series.load, py);
    // `shown` is the first slots (times ascend): evTotal[i] is slot i's.
    const evLine = stepPath(series.times.map((_, i) => (i < evTotal.length ? evTotal[i] : 0)), py);
    const evArea = evTotal.some((v) => v > KW_EPS)
      ? `M${x(t0)},${power.bottom}${evLine.replace(/^M/, "L")}L${x(lastEnd)},${power.bottom}Z`
      : "";

    // Prices: a step line on its own scale (none when the plan has no real prices).
    const priced = o.priced !== undefined ? !!o.priced : series.meta.currency != null;
    const price = { top: 122, bottom: 170, shown: priced };
    const priceValues = priced ? shown.map((i) => series.importPrice[i]).filter((v) => v != null) : [];
    const pMin = priceValues.length ? Math.min(0, ...priceValues) : 0;
    const pMax = priceValues.length ? Math.max(...priceValues) : 1;
    price.min = pMin;
    price.max = pMax > pMin ? pMax : pMin + 1;
    const priceY = (p) => round(price.bottom - ((p - price.min) / (price.max - price.min)) * (price.bottom - price.top), 1);
    const pricePath = priceValues.length ? stepPath(series.importPrice, priceY) : "";

    // Battery SoC (0-100 %), when the site has a battery.
    const hasSoc = shown.some((i) => series.soc[i] != null);
    let y = priced ? price.bottom + 18 : power.bottom + 18;
    let soc = null;
    if (hasSoc) {
      soc = { top: y, bottom: y + 44 };
      const sy = (pct) => round(soc.bottom - (Math.min(100, Math.max(0, pct)) / 100) * (soc.bottom - soc.top), 1);
      let d = "";
      let prev = false;
      for (const i of shown) {
        const v = series.soc[i];
        if (v == null) { prev = false; continue; }
        d += `${prev ? "L" : "M"}${x(Math.min(series.times[i] + series.step, t1))},${sy(v)}`;
        prev = true;
      }
      soc.path = d;
      y = soc.bottom + 14;
    }

    // One lane per EV: its charging blocks and its target.
    const lane = 26;
    const ev = Object.keys(series.ev).map((id, k) => {
      const laneTop = y + k * lane;
      const goal = series.goals.find((g) => g.id === id) || null;
      const blocks = evBlocks(series, id)
        .filter((b) => b.start < t1)
        .map((b) => ({
          ...b,
          x: x(b.start),
          width: round(x(Math.min(b.end, t1)) - x(b.start), 1),
          y: laneTop + 12,
          height: 11,
        }));
      let target = null;
      if (goal && Number.isFinite(goal.deadline) && goal.targetSocPct != null) {
        const inside = goal.deadline >= t0 && goal.deadline <= t1;
        target = {
          x: x(Math.min(Math.max(goal.deadline, t0), t1)),
          inside,
          soc: goal.targetSocPct,
          planned: goal.plannedSocPct,
          met: goal.met,
          label: `${Math.round(goal.targetSocPct)} % ${timeLabel(goal.deadline)}`,
        };
      }
      return {
        id,
        name: names[id] || (goal && goal.name) || id,
        laneTop,
        blocks,
        target,
        kwh: round(blocks.reduce((s, b) => s + b.kwh, 0), 1),
      };
    });
    y += ev.length * lane;

    // Time axis: every 6 h (3 h for a day or less) on the home's clock.
    const every = hours <= 24 ? 3 : 6;
    const ticks = [];
    for (let t = Math.ceil(t0 / STEP) * STEP; t <= t1; t += STEP) {
      const c = clock(t);
      if (c.minute !== 0 || c.hour % every !== 0) continue;
      const label = c.hour === 0 && dayLabel ? dayLabel(t) : timeLabel(t);
      ticks.push({ x: x(t), label, midnight: c.hour === 0 });
    }
    const nowX = now != null && now >= t0 && now <= t1 ? x(now) : null;
    return {
      width,
      height: y + 18,
      left,
      right: width - right,
      t0,
      t1,
      axisY: y + 2,
      nowX,
      power: { ...power, pvArea, pvLine, loadLine, evArea },
      price: { ...price, path: pricePath },
      soc,
      ev,
      ticks,
    };
  }

  function fmtNumber(value, digits) {
    return value == null ? "–" : Number(value).toFixed(digits);
  }

  /** The plan's SVG (a string) from `planGeometry`. */
  function renderPlanSvg(g, labels) {
    const l = labels || {};
    const parts = [];
    parts.push(`<svg class="plan" viewBox="0 0 ${g.width} ${g.height}" role="img" aria-label="${escapeHtml(l.aria || "Energy plan")}" xmlns="http://www.w3.org/2000/svg">`);
    const grid = (top, bottom) => `<line class="frame" x1="${g.left}" x2="${g.right}" y1="${bottom}" y2="${bottom}"/>`;
    // Power panel
    parts.push(`<text class="axis" x="${g.left - 4}" y="${g.power.top + 4}" text-anchor="end">${escapeHtml(fmtNumber(g.power.max, g.power.max < 10 ? 1 : 0))}</text>`);
    parts.push(`<text class="axis" x="${g.left - 4}" y="${g.power.top + 15}" text-anchor="end">kW</text>`);
    parts.push(`<text class="axis" x="${g.left - 4}" y="${g.power.bottom}" text-anchor="end">0</text>`);
    parts.push(grid(g.power.top, g.power.bottom));
    if (g.power.evArea) parts.push(`<path class="ev-area" d="${g.power.evArea}"/>`);
    if (g.power.pvArea) parts.push(`<path class="pv" d="${g.power.pvArea}"/>`);
    if (g.power.loadLine) parts.push(`<path class="load" d="${g.power.loadLine}"/>`);
    // Price panel
    if (g.price.shown) {
      parts.push(`<text class="axis" x="${g.right + 4}" y="${g.price.top + 4}">${escapeHtml(fmtNumber(g.price.max, 2))}</text>`);
      parts.push(`<text class="axis" x="${g.right + 4}" y="${g.price.bottom}">${escapeHtml(fmtNumber(g.price.min, 2))}</text>`);
      parts.push(`<text class="axis" x="2" y="${g.price.top + 4}">${escapeHtml(l.price || "Price")}</text>`);
      parts.push(grid(g.price.top, g.price.bottom));
      if (g.price.path) parts.push(`<path class="price" d="${g.price.path}"/>`);
    }
    // SoC panel
    if (g.soc) {
      parts.push(`<text class="axis" x="2" y="${g.soc.top + 4}">${escapeHtml(l.battery || "Battery")}</text>`);
      parts.push(`<text class="axis" x="${g.right + 4}" y="${g.soc.top + 4}">100%</text>`);
      parts.push(`<text class="axis" x="${g.right + 4}" y="${g.soc.bottom}">0%</text>`);
      parts.push(grid(g.soc.top, g.soc.bottom));
      if (g.soc.path) parts.push(`<path class="soc" d="${g.soc.path}"/>`);
    }
    // EV lanes
    for (const lane of g.ev) {
      parts.push(`<text class="lane" x="2" y="${lane.laneTop + 7}">${escapeHtml(lane.name)}${lane.kwh ? ` · ${escapeHtml(fmtNumber(lane.kwh, 1))} kWh` : ""}</text>`);
      parts.push(`<line class="frame" x1="${g.left}" x2="${g.right}" y1="${lane.laneTop + 23.5}" y2="${lane.laneTop + 23.5}"/>`);
      for (const b of lane.blocks) {
        parts.push(`<rect class="ev" x="${b.x}" y="${b.y}" width="${Math.max(1, b.width)}" height="${b.height}" rx="2"><title>${escapeHtml(`${b.kw} kW`)}</title></rect>`);
      }
      const t = lane.target;
      if (t) {
        const cls = t.met === false ? "target missed" : "target";
        const anchor = t.x > g.right - 60 ? "end" : "start";
        const dx = anchor === "end" ? -3 : 3;
        parts.push(`<line class="${cls}" x1="${t.x}" x2="${t.x}" y1="${lane.laneTop + 2}" y2="${lane.laneTop + 24}"/>`);
        parts.push(`<path class="${cls} flag" d="M${t.x},${lane.laneTop + 2}l6,3l-6,3z"/>`);
        const text = t.met === false && t.planned != null ? `${Math.floor(t.planned)}/${t.label}` : t.label;
        parts.push(`<text class="${cls} label" x="${round(t.x + dx, 1)}" y="${lane.laneTop + 7}" text-anchor="${anchor}">${escapeHtml(text)}</text>`);
      }
    }
    // Time axis and now
    for (const tick of g.ticks) {
      parts.push(`<line class="${tick.midnight ? "tick midnight" : "tick"}" x1="${tick.x}" x2="${tick.x}" y1="${g.power.top}" y2="${g.axisY}"/>`);
      parts.push(`<text class="axis" x="${tick.x}" y="${g.axisY + 12}" text-anchor="middle">${escapeHtml(tick.label)}</text>`);
    }
    if (g.nowX != null) {
      parts.push(`<line class="now" x1="${g.nowX}" x2="${g.nowX}" y1="${g.power.top - 6}" y2="${g.axisY}"/>`);
      parts.push(`<text class="now-label" x="${g.nowX}" y="${g.power.top - 7}" text-anchor="middle">${escapeHtml(l.now || "now")}</text>`);
    }
    parts.push("</svg>");
    return parts.join("");
  }

  /**
   * The flow card's model: each part's power and which way it flows.
   * values: {pv_w, house_w, battery_w (charging +), grid_w (import +), soc_pct,
   *          evs: [{id, name, power_w, charging}]}
   */
  function flowModel(values) {
    const v = values || {};
    const kw = (w) => (w == null ? null : round(w / 1000, 2));
    const dir = (w, inward) => (w == null || Math.abs(w) < 10 ? "none" : inward(w) ? "in" : "out");
    const nodes = [
      { key: "pv", kw: kw(v.pv_w), direction: dir(v.pv_w, (w) => w > 0), x: 180, y: 34 },
      { key: "grid", kw: kw(v.grid_w == null ? null : Math.abs(v.grid_w)), signed: kw(v.grid_w), direction: dir(v.grid_w, (w) => w > 0), x: 44, y: 110 },
      { key: "house", kw: kw(v.house_w), direction: dir(v.house_w, () => false), x: 316, y: 110 },
    ];
    if (v.battery_w != null || v.soc_pct != null) {
      nodes.push({
        key: "battery",
        kw: kw(v.battery_w == null ? null : Math.abs(v.battery_w)),
        signed: kw(v.battery_w),
        soc: v.soc_pct == null ? null : Math.round(v.soc_pct),
        direction: dir(v.battery_w, (w) => w < 0),
        x: 84,
        y: 190,
      });
    }
    const evs = Array.isArray(v.evs) ? v.evs : [];
    const shown = evs.length > 3 ? [{ id: "*", name: `${evs.length} EVs`, power_w: evs.reduce((s, e) => s + (e.power_w || 0), 0), charging: evs.some((e) => e.charging) }] : evs;
    const xs = shown.length === 1 ? [236] : shown.length === 2 ? [200, 290] : [172, 242, 312];
    shown.forEach((e, k) => {
      nodes.push({ key: `ev:${e.id}`, name: e.name, kw: kw(e.power_w || 0), charging: !!e.charging, direction: dir(e.power_w || 0, () => false), x: xs[k], y: 190 });
    });
    return { hub: { x: 180, y: 110 }, nodes };
  }

  const FLOW_LABELS = { pv: "Solar", grid: "Grid", house: "House", battery: "Battery" };
  const FLOW_ICONS = {
    pv: "M4,10h16M6,6h12l2,8H4zM12,14v6M8,20h8",
    grid: "M12,2l-6,20M12,2l6,20M7,9h10M6,15h12",
    house: "M3,11l9,-8l9,8M5,10v10h14v-10",
    battery: "M7,4h10v18h-10zM10,2h4v2",
    ev: "M3,15l2,-6h14l2,6v4h-18zM7,19v2M17,19v2M6,15h2M16,15h2",
  };

  function renderFlowSvg(model) {
    const parts = [`<svg class="flow" viewBox="0 0 360 232" role="img" aria-label="Power flow" xmlns="http://www.w3.org/2000/svg">`];
    const h = model.hub;
    for (const n of model.nodes) {
      const cls = `spoke ${n.direction}`;
      // Draw from the source to the sink, so the dashes move the way power flows.
      const [a, b] = n.direction === "in" ? [n, h] : [h, n];
      parts.push(`<path class="${cls}" d="M${a.x},${a.y}L${b.x},${b.y}"/>`);
    }
    parts.push(`<circle class="hub" cx="${h.x}" cy="${h.y}" r="5"/>`);
    for (const n of model.nodes) {
      const kind = n.key.startsWith("ev:") ? "ev" : n.key;
      const label = kind === "ev" ? n.name : FLOW_LABELS[kind];
      let value = n.kw == null ? "–" : `${fmtNumber(n.kw, n.kw >= 10 ? 1 : 2)} kW`;
      let sub = "";
      if (kind === "grid" && n.signed != null && n.direction !== "none") sub = n.signed > 0 ? "import" : "export";
      if (kind === "battery") {
        sub = n.soc == null ? "" : `${n.soc} %`;
        if (n.direction !== "none" && n.signed != null) sub += n.signed > 0 ? " ↑" : " ↓";
      }
      if (kind === "ev") sub = n.charging ? "charging" : "";
      parts.push(`<g class="node ${kind} ${n.direction}"><circle cx="${n.x}" cy="${n.y}" r="27"/>`);
      parts.push(`<path class="icon" transform="translate(${n.x - 9},${n.y - 22}) scale(0.75)" d="${FLOW_ICONS[kind]}"/>`);
      parts.push(`<text class="value" x="${n.x}" y="${n.y + 8}" text-anchor="middle">${escapeHtml(value)}</text>`);
      if (sub) parts.push(`<text class="sub" x="${n.x}" y="${n.y + 19}" text-anchor="middle">${escapeHtml(sub.trim())}</text>`);
      const ly = n.y > h.y ? n.y + 40 : n.y - 31;
      if (n.y <= h.y && kind !== "pv") {
        parts.push(`<text class="name" x="${n.x}" y="${n.y + 40}" text-anchor="middle">${escapeHtml(label)}</text>`);
      } else if (kind === "pv") {
        parts.push(`<text class="name" x="${n.x + 32}" y="${n.y + 4}">${escapeHtml(label)}</text>`);
      } else {
        parts.push(`<text class="name" x="${n.x}" y="${ly}" text-anchor="middle">${escapeHtml(truncate(label, 16))}</text>`);
      }
      parts.push("</g>");
    }
    parts.push("</svg>");
    return parts.join("");
  }

  function truncate(text, n) {
    const s = String(text || "");
    return s.length > n ? `${s.slice(0, n - 1)}…` : s;
  }

  // Finding the site's entities in the hass object ------------------------------

  function ourEntities(hass) {
    return Object.values((hass && hass.entities) || {}).filter((e) => e && e.platform === DOMAIN);
  }

  function looksLikePlan(state) {
    const a = (state && state.attributes) || {};
    return "status" in a && ("planned_at" in a || a.reason === "pending") && ("goals_total" in a || "slots" in a || a.reason === "pending");
  }

  function looksLikeStatus(state) {
    const a = (state && state.attributes) || {};
    return Array.isArray(a.codes) && Array.isArray(a.explanation);
  }

  /** The first plan sensor: by registry (ours, translation key `plan`), else by its attributes. */
  function findPlanEntity(hass) {
    const ids = ourEntities(hass).filter((e) => e.translation_key === "plan" && e.entity_id.startsWith("sensor.")).map((e) => e.entity_id).sort();
    const byRegistry = ids.find((id) => hass.states[id]);
    if (byRegistry) return byRegistry;
    return Object.keys((hass && hass.states) || {}).filter((id) => id.startsWith("sensor.") && looksLikePlan(hass.states[id])).sort()[0];
  }

  function findStatusEntity(hass, near) {
    const entities = ourEntities(hass).filter((e) => e.translation_key === "coordinator_status" && hass.states[e.entity_id]);
    if (near) {
      const device = hass.entities[near] && hass.entities[near].device_id;
      const same = entities.find((e) => device && e.device_id === device);
      if (same) return same.entity_id;
    }
    const ids = entities.map((e) => e.entity_id).sort();
    if (ids.length) return ids[0];
    return Object.keys((hass && hass.states) || {}).filter((id) => id.startsWith("sensor.") && looksLikeStatus(hass.states[id])).sort()[0];
  }

  /** The site's power sensors (entity ids) around the site device of `entityId`. */
  function siteSensors(hass, entityId) {
    const found = {};
    const entry = hass.entities && hass.entities[entityId];
    const siteDevice = entry && entry.device_id;
    if (!siteDevice) return found;
    const devices = hass.devices || {};
    const keys = { solar_power: "pv", house_power: "house", battery_power: "battery", battery_soc: "soc", grid_power: "grid" };
    for (const e of ourEntities(hass)) {
      const key = keys[e.translation_key];
      if (!key || found[key]) continue;
      const device = devices[e.device_id];
      if (e.device_id === siteDevice || (device && device.via_device_id === siteDevice)) found[key] = e.entity_id;
    }
    return found;
  }

  /** The config entry of the site an entity belongs to (for the actions). */
  function siteEntryId(hass, entityId) {
    const entry = hass.entities && hass.entities[entityId];
    const device = entry && hass.devices && hass.devices[entry.device_id];
    const entries = (device && device.config_entries) || [];
    return entries.length === 1 ? entries[0] : entry && entry.config_entry_id ? entry.config_entry_id : null;
  }

  function powerW(hass, entityId) {
    const state = entityId && hass.states[entityId];
    if (!state) return null;
    const value = num(state.state);
    if (value == null) return null;
    const unit = state.attributes && state.attributes.unit_of_measurement;
    return unit === "kW" ? value * 1000 : unit === "MW" ? value * 1e6 : value;
  }

  function deviceName(hass, deviceId) {
    const d = deviceId && hass.devices && hass.devices[deviceId];
    return d ? d.name_by_user || d.name || null : null;
  }

  // Shared styles -------------------------------------------------------------------

  const STYLE = `
    :host { display: block; }
    ha-card { padding: 12px 12px 14px; color: var(--primary-text-color); background: var(--ha-card-background, var(--card-background-color, #fff)); }
    .title { font-size: 1.15rem; font-weight: 500; margin: 0 0 6px; line-height: 1.3; }
    svg { width: 100%; height: auto; display: block; overflow: visible; font-family: var(--paper-font-body1_-_font-family, inherit); }
    .axis { fill: var(--secondary-text-color); font-size: 11px; }
    .lane { fill: var(--primary-text-color); font-size: 11.5px; font-weight: 500; }
    .frame { stroke: var(--divider-color, rgba(127,127,127,.3)); stroke-width: 1; }
    .tick { stroke: var(--divider-color, rgba(127,127,127,.25)); stroke-width: .7; stroke-dasharray: 2 3; }
    .tick.midnight { stroke-dasharray: none; }
    svg.plan .pv { fill: var(--energy-solar-color, #ff9800); fill-opacity: .35; stroke: var(--energy-solar-color, #ff9800); stroke-width: 1.2; }
    svg.plan .ev-area { fill: var(--primary-color, #03a9f4); fill-opacity: .25; stroke: none; }
    svg.plan .load { fill: none; stroke: var(--energy-non-fossil-color, var(--secondary-text-color)); stroke-width: 1.6; }
    svg.plan .price { fill: none; stroke: var(--energy-grid-consumption-color, #488fc2); stroke-width: 1.6; }
    svg.plan .soc { fill: none; stroke: var(--energy-battery-out-color, #4db6ac); stroke-width: 1.8; }
    svg.plan .ev { fill: var(--primary-color, #03a9f4); }
    svg.plan .target { stroke: var(--success-color, #43a047); fill: var(--success-color, #43a047); stroke-width: 1.4; }
    svg.plan .target.missed { stroke: var(--warning-color, #ffa600); fill: var(--warning-color, #ffa600); }
    svg.plan .target.label { stroke: none; font-size: 11px; font-weight: 500; }
    svg.plan .now { stroke: var(--error-color, #db4437); stroke-width: 1.4; }
    svg.plan .now-label { fill: var(--error-color, #db4437); font-size: 11px; }
    .legend { display: flex; flex-wrap: wrap; gap: 4px 12px; font-size: .8rem; color: var(--secondary-text-color); margin: 6px 0 2px; }
    .legend i { display: inline-block; width: 12px; height: 4px; border-radius: 2px; margin-right: 4px; vertical-align: middle; }
    .facts { font-size: .85rem; color: var(--secondary-text-color); margin: 4px 0; }
    .now-text { font-size: .95rem; margin: 8px 0 4px; line-height: 1.4; }
    .now-text b, .ev-row b { font-weight: 500; }
    ul { margin: 4px 0 0; padding-left: 18px; font-size: .9rem; line-height: 1.4; }
    li { margin: 2px 0; }
    .note { font-size: .85rem; color: var(--secondary-text-color); margin: 6px 0; }
    .warn { color: var(--warning-color, #ffa600); }
    .spoke { stroke: var(--divider-color, rgba(127,127,127,.35)); stroke-width: 2; fill: none; }
    .spoke.in, .spoke.out { stroke: var(--primary-color, #03a9f4); stroke-dasharray: 5 5; animation: ec-flow 1.2s linear infinite; }
    @keyframes ec-flow { to { stroke-dashoffset: -10; } }
    @media (prefers-reduced-motion: reduce) { .spoke.in, .spoke.out { animation: none; } }
    .hub { fill: var(--primary-color, #03a9f4); }
    .node circle { fill: var(--ha-card-background, var(--card-background-color, #fff)); stroke: var(--divider-color, #bbb); stroke-width: 2; }
    .node.pv circle { stroke: var(--energy-solar-color, #ff9800); }
    .node.grid circle { stroke: var(--energy-grid-consumption-color, #488fc2); }
    .node.house circle { stroke: var(--primary-text-color); }
    .node.battery circle { stroke: var(--energy-battery-out-color, #4db6ac); }
    .node.ev circle { stroke: var(--primary-color, #03a9f4); }
    .icon { fill: none; stroke: var(--secondary-text-color); stroke-width: 1.8; stroke-linecap: round; stroke-linejoin: round; }
    .value { fill: var(--primary-text-color); font-size: 11.5px; font-weight: 500; }
    .sub { fill: var(--secondary-text-color); font-size: 9.5px; }
    .name { fill: var(--primary-text-color); font-size: 11px; }
    .ev-row { font-size: .9rem; line-height: 1.4; margin: 6px 0 0; padding-top: 6px; border-top: 1px solid var(--divider-color, rgba(127,127,127,.2)); }
    .ev-row .why { color: var(--secondary-text-color); }
  `;

  const BaseElement = typeof HTMLElement !== "undefined" ? HTMLElement : class {};

  class CardBase extends BaseElement {
    constructor() {
      super();
      if (this.attachShadow) this.attachShadow({ mode: "open" });
    }

    _write(html) {
      const root = this.shadowRoot || this;
      if (this._lastHtml === html) return;
      this._lastHtml = html;
      root.innerHTML = `<style>${STYLE}</style><ha-card>${html}</ha-card>`;
    }

    /** `compute()` again only when the registries or the config changed (a
     * scan of every entity on each of HA's many updates would be wasteful). */
    _lookup(name, compute) {
      const hass = this._hass;
      const key = [hass.entities, hass.devices, this._config];
      const cache = (this._cache = this._cache || {});
      const hit = cache[name];
      if (hit && hit.key.every((k, i) => k === key[i]) && hit.value !== undefined) return hit.value;
      const value = compute();
      cache[name] = { key, value };
      return value;
    }

    _formatState(state) {
      const hass = this._hass;
      if (!state) return "";
      try {
        if (hass && typeof hass.formatEntityState === "function") return hass.formatEntityState(state);
      } catch (err) {
        /* an older frontend: the raw state */
      }
      return state.state;
    }

    _clock() {
      const zone = (this._hass && this._hass.config && this._hass.config.time_zone) || undefined;
      const language = (this._hass && ((this._hass.locale && this._hass.locale.language) || this._hass.language)) || undefined;
      let time;
      let day;
      let parts;
      try {
        time = new Intl.DateTimeFormat(language, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone });
        day = new Intl.DateTimeFormat(language, { weekday: "short", timeZone: zone });
        parts = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone });
      } catch (err) {
        time = new Intl.DateTimeFormat(language, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
        day = new Intl.DateTimeFormat(language, { weekday: "short" });
        parts = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
      }
      return {
        timeLabel: (ms) => time.format(new Date(ms)),
        dayLabel: (ms) => day.format(new Date(ms)),
        clock: (ms) => {
          const [h, m] = parts.format(new Date(ms)).split(":").map((v) => parseInt(v, 10));
          return { hour: h % 24, minute: m };
        },
      };
    }
  }

  // The plan card -------------------------------------------------------------------

  class EnergyCoordinatorPlanCard extends CardBase {
    static getStubConfig(hass) {
      const entity = hass ? findPlanEntity(hass) : undefined;
      return entity ? { entity, hours: MAX_HOURS } : { hours: MAX_HOURS };
    }

    setConfig(config) {
      this._config = validatePlanConfig(config);
      this._planKey = undefined;
      this._lastHtml = undefined;
      if (this._hass) this.hass = this._hass;
    }

    getCardSize() {
      return 9;
    }

    getGridOptions() {
      return { columns: 12, min_columns: 6, rows: "auto" };
    }

    set hass(hass) {
      this._hass = hass;
      if (!this._config) return;
      const entity = this._config.entity || this._lookup("plan", () => findPlanEntity(hass));
      this._entity = entity;
      const state = entity ? hass.states[entity] : undefined;
      const status = state ? this._lookup("status", () => findStatusEntity(hass, entity)) : undefined;
      const statusState = status ? hass.states[status] : undefined;
      const key = state ? `${entity}|${state.state}|${state.last_changed}|${state.attributes.planned_at || ""}` : null;
      if (key !== this._planKey) {
        this._planKey = key;
        if (state) this._fetch(hass, entity, key);
      }
      // Render only when something shown changed (not on every hass update).
      const minute = Math.floor(Date.now() / 60000);
      // The status as HA words it: raw until the frontend has the entity registry
      // and the translations, which arrive after the first render.
      const label = this._formatState(statusState);
      if (state === this._shownState && statusState === this._shownStatus && minute === this._shownMinute && label === this._shownLabel && !this._dirty) return;
      this._shownLabel = label;
      this._shownState = state;
      this._shownStatus = statusState;
      this._shownMinute = minute;
      this._dirty = false;
      this._render(state, statusState);
    }

    get hass() {
      return this._hass;
    }

    async _fetch(hass, entity, key) {
      const entryId = siteEntryId(hass, entity);
      const data = entryId ? { config_entry_id: entryId } : {};
      const call = (service, extra) =>
        hass.callWS({
          type: "call_service",
          domain: DOMAIN,
          service,
          service_data: { ...data, ...(extra || {}) },
          return_response: true,
        });
      try {
        const [plan, explanation] = await Promise.all([call("get_plan"), call("explain_plan")]);
        if (key !== this._planKey) return; // a newer plan is on its way
        this._plan = plan && plan.response ? plan.response : plan;
        this._explanation = explanation && explanation.response ? explanation.response : explanation;
        this._error = null;
      } catch (err) {
        if (key !== this._planKey) return;
        this._error = (err && (err.message || err.code)) || String(err);
      }
      this._dirty = true;
      if (this._hass) this.hass = this._hass;
    }

    _render(state, statusState) {
      const config = this._config;
      const title = config.title !== undefined ? config.title : "Energy plan";
      const head = title ? `<div class="title">${escapeHtml(title)}</div>` : "";
      if (!state) {
        this._write(`${head}<div class="note warn">${escapeHtml(
          config.entity
            ? `${config.entity} is not available.`
            : "No Energy Coordinator plan sensor found: set up a site that measures its grid or PV power, or set entity:."
        )}</div>`);
        return;
      }
      const fromAction = this._plan && Array.isArray(this._plan.slots) && this._plan.slots.length;
      const series = fromAction ? planFromResponse(this._plan) : planFromAttributes(state.attributes);
      const names = {};
      for (const goal of series.goals) if (goal.name) names[goal.id] = goal.name;
      let body = "";
      if (!series.times.length) {
        const reason = state.attributes.reason;
        body += `<div class="note">${escapeHtml(
          reason === "pending" ? "No plan yet: the first one is being made." : "No plan for now (the reasons are below)."
        )}</div>`;
      } else {
        const geometry = planGeometry(series, { width: 360, now: Date.now(), hours: config.hours, names, ...this._clock() });
        body += renderPlanSvg(geometry);
        body += `<div class="legend">${geometry.price.shown ? '<span><i style="background:var(--energy-grid-consumption-color,#488fc2)"></i>Price</span>' : ""}<span><i style="background:var(--energy-solar-color,#ff9800)"></i>Solar</span><span><i style="background:var(--energy-non-fossil-color,var(--secondary-text-color))"></i>House</span>${geometry.soc ? '<span><i style="background:var(--energy-battery-out-color,#4db6ac)"></i>Battery SoC</span>' : ""}${geometry.ev.length ? '<span><i style="background:var(--primary-color,#03a9f4)"></i>EV charging</span>' : ""}</div>`;
        const m = series.meta;
        const facts = [];
        if (m.expectedCost != null) facts.push(`Expected cost ${fmtNumber(m.expectedCost, 2)} ${m.currency || ""}`.trim());
        if (m.expectedPvKwh != null) facts.push(`solar ${fmtNumber(m.expectedPvKwh, 1)} kWh`);
        if (m.selfConsumptionPct != null) facts.push(`${fmtNumber(m.selfConsumptionPct, 0)} % used at home`);
        if (facts.length) body += `<div class="facts">${escapeHtml(facts.join(" · "))}</div>`;
        if (!geometry.ev.length) {
          body += `<div class="note">${escapeHtml("No EV in the plan: give a plugged-in EV a target (SoC and time) or the plan mode.")}</div>`;
        }
      }
      if (statusState) {
        const summary = statusState.attributes.summary;
        body += `<div class="now-text"><b>Now: ${escapeHtml(this._formatState(statusState))}</b>${summary ? ` — ${escapeHtml(summary)}` : ""}</div>`;
      }
      const reasons = this._explanation && Array.isArray(this._explanation.reasons) ? this._explanation.reasons : [];
      if (reasons.length) {
        body += `<ul class="reasons">${reasons.slice(0, 12).map((r) => `<li>${escapeHtml(r.message)}</li>`).join("")}</ul>`;
      } else if (this._error) {
        body += `<div class="note warn">${escapeHtml(`The plan's explanation is not available: ${this._error}`)}</div>`;
      }
      this._write(head + body);
    }
  }

  // The flow card -------------------------------------------------------------------

  /** The EVs as the coordinator status sensor lists them, with live power. */
  function flowEvs(hass, statusState) {
    const loadpoints = (statusState && Array.isArray(statusState.attributes.loadpoints) && statusState.attributes.loadpoints) || [];
    return loadpoints.map((lp) => {
      const live = powerW(hass, lp.power_entity);
      const name = deviceName(hass, lp.charger_device_id) || lp.name || lp.id;
      return {
        id: lp.id,
        name,
        power_w: live != null ? live : (num(lp.power_kw) || 0) * 1000,
        charging: !!lp.charging,
        reason: lp.reason || "",
        plugged: lp.plugged,
        mode: lp.mode,
      };
    });
  }

  class EnergyCoordinatorFlowCard extends CardBase {
    static getStubConfig(hass) {
      const entity = hass ? findStatusEntity(hass) : undefined;
      return entity ? { entity } : {};
    }

    setConfig(config) {
      this._config = validateFlowConfig(config);
      this._lastHtml = undefined;
      this._watched = undefined;
      if (this._hass) this.hass = this._hass;
    }

    getCardSize() {
      return 6;
    }

    getGridOptions() {
      return { columns: 12, min_columns: 6, rows: "auto" };
    }

    set hass(hass) {
      this._hass = hass;
      if (!this._config) return;
      const entity = this._config.entity || this._lookup("status", () => findStatusEntity(hass));
      const statusState = entity ? hass.states[entity] : undefined;
      const sensors = entity ? this._lookup(`sensors:${entity}`, () => siteSensors(hass, entity)) : {};
      const lps = (statusState && Array.isArray(statusState.attributes.loadpoints) && statusState.attributes.loadpoints) || [];
      // The status as HA words it: raw until the frontend has the entity registry
      // and the translations, which arrive after the first render.
      const watched = [this._formatState(statusState), statusState, ...Object.values(sensors).map((id) => hass.states[id]), ...lps.map((lp) => lp.power_entity && hass.states[lp.power_entity])];
      if (this._watched && watched.length === this._watched.length && watched.every((s, i) => s === this._watched[i])) return;
      this._watched = watched;
      this._render(entity, statusState, sensors);
    }

    get hass() {
      return this._hass;
    }

    _render(entity, statusState, sensors) {
      const config = this._config;
      const hass = this._hass;
      const title = config.title !== undefined ? config.title : "Site now";
      const head = title ? `<div class="title">${escapeHtml(title)}</div>` : "";
      if (!statusState) {
        this._write(`${head}<div class="note warn">${escapeHtml(
          config.entity ? `${config.entity} is not available.` : "No Energy Coordinator status sensor found: set entity:."
        )}</div>`);
        return;
      }
      const evs = flowEvs(hass, statusState);
      const model = flowModel({
        pv_w: powerW(hass, sensors.pv),
        house_w: powerW(hass, sensors.house),
        battery_w: sensors.battery ? powerW(hass, sensors.battery) : null,
        grid_w: powerW(hass, sensors.grid),
        soc_pct: sensors.soc ? num(hass.states[sensors.soc] && hass.states[sensors.soc].state) : null,
        evs,
      });
      let body = renderFlowSvg(model);
      const summary = statusState.attributes.summary;
      body += `<div class="now-text"><b>${escapeHtml(this._formatState(statusState))}</b>${summary ? ` — ${escapeHtml(summary)}` : ""}</div>`;
      for (const ev of evs) {
        const kw = `${fmtNumber(ev.power_w / 1000, 1)} kW`;
        const what = ev.charging ? `charging, ${kw}` : ev.plugged === false ? "no car plugged in" : "not charging";
        body += `<div class="ev-row"><b>${escapeHtml(ev.name)}</b>: ${escapeHtml(what)}${ev.reason ? `<div class="why">${escapeHtml(ev.reason)}</div>` : ""}</div>`;
      }
      const total = num(statusState.attributes.loadpoints_total);
      if (total != null && total > evs.length) body += `<div class="note">${escapeHtml(`and ${total - evs.length} more EVs`)}</div>`;
      this._write(head + body);
    }
  }

  // Registration ----------------------------------------------------------------------

  const api = {
    validatePlanConfig,
    validateFlowConfig,
    planFromResponse,
    planFromAttributes,
    evBlocks,
    niceMax,
    planGeometry,
    renderPlanSvg,
    flowModel,
    renderFlowSvg,
    findPlanEntity,
    findStatusEntity,
    siteSensors,
    siteEntryId,
    flowEvs,
    escapeHtml,
    EnergyCoordinatorPlanCard,
    EnergyCoordinatorFlowCard,
  };
  globalThis.EnergyCoordinatorCards = api;

  const target = typeof window !== "undefined" ? window : globalThis;

  /** Define both cards in the registry in place now (HA's or the browser's). */
  function defineCards() {
    const registry = target.customElements || (typeof customElements !== "undefined" ? customElements : null);
    if (!registry) return;
    if (!registry.get(PLAN_CARD)) registry.define(PLAN_CARD, EnergyCoordinatorPlanCard);
    if (!registry.get(FLOW_CARD)) registry.define(FLOW_CARD, EnergyCoordinatorFlowCard);
  }

  // HA's frontend loads this file (an extra module) next to its own app, which
  // replaces window.customElements with a scoped registry when it starts: an
  // element defined before that is unknown to Lovelace ("Custom element doesn't
  // exist"). So wait for HA's own root element (the app's registry is in place
  // then), or the cast receiver's, or at most 10 s.
  const early = target.customElements;
  if (early && typeof early.whenDefined === "function" && !early.get("home-assistant") && !early.get("hc-main")) {
    Promise.race([
      early.whenDefined("home-assistant"),
      early.whenDefined("hc-main"),
      new Promise((resolve) => setTimeout(resolve, 10000)),
    ]).then(defineCards);
  } else {
    defineCards();
  }
  target.customCards = target.customCards || [];
  const cards = [
    {
      type: PLAN_CARD,
      name: "Energy Coordinator plan",
      description: "The next 48 hours: prices, solar and house forecast, battery, each EV's charging and target, and why.",
      preview: false,
      documentationURL: "https://github.com/energy-coordinator/energy-coordinator",
    },
    {
      type: FLOW_CARD,
      name: "Energy Coordinator power flow",
      description: "Now: solar, house, battery, grid and each EV as a power flow, and why each car is or is not charging.",
      preview: false,
      documentationURL: "https://github.com/energy-coordinator/energy-coordinator",
    },
  ];
  for (const card of cards) {
    if (!target.customCards.some((c) => c.type === card.type)) target.customCards.push(card);
  }
})();
