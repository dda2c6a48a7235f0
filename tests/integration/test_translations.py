"""The translation files match strings.json (pure file checks, no hass)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

COMPONENT = (
    Path(__file__).resolve().parents[2] / "custom_components" / "energy_coordinator"
)
TRANSLATIONS = COMPONENT / "translations"
LANGUAGES = ("pt-BR", "zh-Hans")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

type KeyPath = tuple[str, ...]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package's autouse fixture: these tests need no hass."""


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _leaves(
    tree: dict[str, Any], prefix: KeyPath = ()
) -> Iterator[tuple[KeyPath, Any]]:
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _leaves(value, (*prefix, key))
        else:
            yield (*prefix, key), value


def _strings() -> dict[KeyPath, Any]:
    return dict(_leaves(_load(COMPONENT / "strings.json")))


def test_en_equals_strings() -> None:
    """translations/en.json is a copy of strings.json."""
    assert _load(TRANSLATIONS / "en.json") == _load(COMPONENT / "strings.json")


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_keys_as_strings(language: str) -> None:
    """Every key of strings.json is translated, and no other key exists."""
    source = _strings()
    translated = dict(_leaves(_load(TRANSLATIONS / f"{language}.json")))
    missing = sorted(".".join(path) for path in source.keys() - translated.keys())
    extra = sorted(".".join(path) for path in translated.keys() - source.keys())
    assert not missing, f"missing in {language}: {missing}"
    assert not extra, f"not in strings.json: {extra}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_values_are_text_with_english_placeholders(language: str) -> None:
    """Each translation is text with exactly the English placeholders."""
    source = _strings()
    wrong = []
    for path, text in _leaves(_load(TRANSLATIONS / f"{language}.json")):
        english = source.get(path)
        if not isinstance(text, str) or not text.strip() or "[%key:" in text:
            wrong.append(f"{'.'.join(path)}: {text!r}")
        elif english is not None and set(PLACEHOLDER.findall(text)) != set(
            PLACEHOLDER.findall(english)
        ):
            wrong.append(f"{'.'.join(path)}: {text!r} vs {english!r}")
    assert not wrong, "\n".join(wrong)


#: Inline code and placeholders are the same in every language.
CODE = re.compile(r"`[^`]*`|\{[^{}]*\}")
#: Strings that are the same words in the language (not English left behind).
SAME_AS_ENGLISH = {"pt-BR": {"Status", "Solar"}, "zh-Hans": set()}
#: English words no Portuguese (Brazil) sentence has.
ENGLISH_WORDS = re.compile(
    r"\b(the|and|when|with|is|are|of|to|for|this|your|from|not|by|on|at|be|it|"
    r"has|you|will|can)\b",
    re.IGNORECASE,
)
#: Latin words a Simplified Chinese string may hold: names, protocol terms, units.
LATIN_IN_CHINESE = {
    "Energy",
    "Coordinator",
    "Home",
    "Assistant",
    "Basic",
    "RebootRequired",
    "SmartCharging",
    "ftp",
    "ftps",
    "http",
    "https",
    "sftp",
    "wss",
    "kW",
    "kWh",
    "IPv4",
    "IPv6",
    # Price and solar forecast services the planner reads.
    "Nord",
    "Pool",
    "ENTSO-e",
    "Tibber",
    "Solcast",
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _prose(text: str) -> str:
    """The text without inline code and placeholders."""
    return CODE.sub("", text)


def _has_words(text: str) -> bool:
    """Whether the text has words to translate (not only acronyms, units, numbers)."""
    return any(
        not re.fullmatch(r"[A-Z0-9]+|k?Wh?|[AVW%s]", word)
        for word in re.findall(r"[A-Za-z][A-Za-z0-9]*", _prose(text))
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_untranslated_english_copies(language: str) -> None:
    """No string is the English text copied over (acronyms and units aside)."""
    source = _strings()
    copies = [
        f"{'.'.join(path)}: {text!r}"
        for path, text in _leaves(_load(TRANSLATIONS / f"{language}.json"))
        if text == source.get(path)
        and _has_words(text)
        and text not in SAME_AS_ENGLISH[language]
    ]
    assert not copies, "\n".join(copies)


def test_portuguese_has_no_english_sentences() -> None:
    """No pt-BR string keeps English words next to Portuguese ones."""
    english = [
        f"{'.'.join(path)}: {text!r}"
        for path, text in _leaves(_load(TRANSLATIONS / "pt-BR.json"))
        if ENGLISH_WORDS.search(_prose(text))
    ]
    assert not english, "\n".join(english)


def test_chinese_is_chinese() -> None:
    """Every zh-Hans string with words is Chinese; Latin only for names and terms."""
    wrong = []
    for path, text in _leaves(_load(TRANSLATIONS / "zh-Hans.json")):
        prose = _prose(text)
        if _has_words(text) and not CJK.search(prose):
            wrong.append(f"{'.'.join(path)}: no Chinese in {text!r}")
            continue
        for word in re.findall(r"[A-Za-z][A-Za-z0-9_./:+-]*", prose):
            # Acronyms (OCPP, TLS, L1) and identifiers (Component.Variable) stay.
            if re.fullmatch(r"[A-Z0-9]+/?", word) or "_" in word or "." in word:
                continue
            if word.rstrip(":/") not in LATIN_IN_CHINESE:
                wrong.append(f"{'.'.join(path)}: English {word!r} in {text!r}")
    assert not wrong, "\n".join(wrong)


def test_every_form_field_is_described() -> None:
    """Each field of the config, options and subentry forms has a data_description."""
    strings = _load(COMPONENT / "strings.json")
    flows = [strings["config"], strings["options"]]
    flows += strings["config_subentries"].values()
    missing = [
        f"{step_id}.{field}"
        for flow in flows
        for step_id, step in flow["step"].items()
        for field in step.get("data", {})
        if field not in step.get("data_description", {})
    ]
    assert not missing, missing


def test_every_action_has_an_icon() -> None:
    """icons.json names an icon for each action of services.yaml, and no other."""
    actions = set(yaml.safe_load((COMPONENT / "services.yaml").read_text()))
    icons = _load(COMPONENT / "icons.json")["services"]
    assert set(icons) == actions
    assert all(icon["service"].startswith("mdi:") for icon in icons.values())
