"""The translation files match strings.json (pure file checks, no hass)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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
