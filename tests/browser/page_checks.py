"""What a person checks on a rendered HA page, read through every shadow root.

HA's frontend is web components all the way down: the text a person reads and the
fields they fill sit in (open) shadow roots that `document.body.innerText` does not
reach. `page_report` walks them all once and returns the visible text, the fields
marked invalid, error alerts, open toasts and Lovelace error cards; `problems` turns
that into the list of things a person would call broken.
"""

from __future__ import annotations

import re
from typing import Any

#: Walks the document and every open shadow root (and the slots' assigned nodes are
#: reached through the light DOM they belong to). Only rendered elements count.
PAGE_REPORT_JS = """
() => {
  const text = [];
  const invalid = [];
  const alerts = [];
  const toasts = [];
  const errorCards = [];
  const skip = new Set(["STYLE", "SCRIPT", "TEMPLATE", "NOSCRIPT"]);
  const shown = (el) => {
    const style = getComputedStyle(el);
    return style.display !== "none" && style.visibility !== "hidden";
  };
  const label = (el) =>
    (el.getAttribute("label") || el.getAttribute("name") || el.id || el.tagName)
      .toString();
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      const t = node.data.trim();
      if (t) text.push(t);
      return;
    }
    if (node.nodeType === Node.ELEMENT_NODE) {
      if (skip.has(node.tagName) || !shown(node)) return;
      const tag = node.tagName.toLowerCase();
      if (node.hasAttribute("invalid") || node.getAttribute("aria-invalid") === "true")
        invalid.push(label(node));
      if (tag === "ha-alert" && node.getAttribute("alert-type") === "error")
        alerts.push(node.textContent.trim() || "(error alert)");
      if (tag === "ha-toast" && node.open)
        toasts.push(node.labelText || node.textContent.trim() || "(toast)");
      if (tag === "hui-error-card" || tag === "hui-warning")
        errorCards.push(tag);
      if (node.shadowRoot) walk(node.shadowRoot);
    }
    for (const child of node.childNodes) walk(child);
  };
  walk(document.documentElement);
  return {text: text.join("\\n"), invalid, alerts, toasts, errorCards};
}
"""

#: Text that only shows when a translation is missing or a card is broken.
RAW_KEY = re.compile(
    r"component\.energy_coordinator\."
    r"|\bentity\.(sensor|binary_sensor|switch|number|select|button|datetime)\."
    r"|\b(config|options)\.(step|error|abort)\.[a-z_]+"
    r"|\bui\.(panel|card|dialogs|components|common)\.[a-z_]+"
)
BROKEN_TEXT = ("Custom element doesn't exist", "Configuration error")


async def page_report(page: Any) -> dict[str, Any]:
    """The page as `PAGE_REPORT_JS` reads it."""
    report: dict[str, Any] = await page.evaluate(PAGE_REPORT_JS)
    return report


def problems(report: dict[str, Any]) -> list[str]:
    """What a person would call broken on the page (empty when nothing is)."""
    found: list[str] = []
    found += [
        f"raw translation key: {m.group(0)!r}" for m in RAW_KEY.finditer(report["text"])
    ]
    found += [f"broken card text: {t!r}" for t in BROKEN_TEXT if t in report["text"]]
    found += [f"field marked invalid: {name}" for name in report["invalid"]]
    found += [f"error alert: {text}" for text in report["alerts"]]
    found += [f"toast: {text}" for text in report["toasts"]]
    found += [f"error card: {tag}" for tag in report["errorCards"]]
    return found
