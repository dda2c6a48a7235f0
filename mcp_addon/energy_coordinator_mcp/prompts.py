"""Prompts (English and Brazilian Portuguese) for energy reports and diagnosis.

Owns the four prompt templates, their arguments, and `render()`, which the MCP
server serves as prompts and the assistant uses as system context. Each prompt
names the tools that hold the facts, so the model fetches them instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

LANGUAGES = ("en", "pt-BR")


@dataclass(frozen=True, slots=True)
class PromptArg:
    """One argument of a prompt."""

    name: str
    description: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class PromptDef:
    """A prompt: its arguments, a description and one template per language."""

    name: str
    description: str
    arguments: tuple[PromptArg, ...]
    templates: Mapping[str, str]
    defaults: Mapping[str, str]


LANGUAGE_ARG = PromptArg("language", "en or pt-BR (default en)")

PROMPTS: dict[str, PromptDef] = {
    "daily_energy_report": PromptDef(
        name="daily_energy_report",
        description="A short report of today's solar, grid, battery and EV charging.",
        arguments=(
            PromptArg("date", "day to report (YYYY-MM-DD, default today)"),
            LANGUAGE_ARG,
        ),
        defaults={"date": "today"},
        templates={
            "en": (
                "Write a short daily energy report for {date}. Use get_site_status "
                "for the present, get_sessions (since {date}) for EV charging, and "
                "get_history on the solar, grid and battery sensors for the day's "
                "shape. Give: solar produced, grid import/export, battery cycle, "
                "energy charged per EV, anything unusual, and one concrete tip. "
                "Use units (kW, kWh, %). At most 150 words."
            ),
            "pt-BR": (
                "Escreva um breve relatório diário de energia de {date}. Use "
                "get_site_status para o momento atual, get_sessions (desde {date}) "
                "para a recarga dos veículos e get_history nos sensores de solar, "
                "rede e bateria para o perfil do dia. Informe: energia solar "
                "produzida, importação/exportação da rede, ciclo da bateria, energia "
                "carregada por veículo, algo incomum e uma dica concreta. Use "
                "unidades (kW, kWh, %). No máximo 150 palavras."
            ),
        },
    ),
    "diagnose_charger": PromptDef(
        name="diagnose_charger",
        description=(
            "Diagnose a charger: faults, reconnects, heartbeat gaps, rejected "
            "limits over a window, the likely cause and the next step."
        ),
        arguments=(
            PromptArg("charger", "charger id", required=True),
            PromptArg("hours", "window in hours (default 24)"),
            LANGUAGE_ARG,
        ),
        defaults={"hours": "24"},
        templates={
            "en": (
                "Diagnose EV charger {charger} over the last {hours} hours. Call "
                "list_chargers with charger={charger} for its state and entities, "
                "then get_history on its connectivity, status, error code and "
                "current limit entities. Look for fault codes, reconnects, "
                "heartbeat gaps (last seen jumps), limits the charger did not "
                "follow, and sessions that ended early (get_sessions). Answer with: "
                "what happened (with times), the most likely cause, and the next "
                "step for the owner. Do not act; only suggest."
            ),
            "pt-BR": (
                "Diagnostique o carregador {charger} nas últimas {hours} horas. "
                "Chame list_chargers com charger={charger} para o estado e as "
                "entidades, depois get_history nas entidades de conectividade, "
                "status, código de erro e limite de corrente. Procure códigos de "
                "falha, reconexões, lacunas de heartbeat (saltos em visto por "
                "último), limites que o carregador não seguiu e sessões encerradas "
                "cedo (get_sessions). Responda com: o que aconteceu (com horários), "
                "a causa mais provável e o próximo passo para o proprietário. Não "
                "execute ações; apenas sugira."
            ),
        },
    ),
    "optimize_tonight": PromptDef(
        name="optimize_tonight",
        description="Suggest tonight's EV and battery settings for tomorrow's needs.",
        arguments=(
            PromptArg("needs", "what is needed tomorrow, e.g. car 80% by 7:30"),
            LANGUAGE_ARG,
        ),
        defaults={"needs": "the usual"},
        templates={
            "en": (
                "Plan tonight's charging. Needs for tomorrow: {needs}. Read "
                "get_site_status and get_plan, then propose charge modes and targets "
                "per EV (set_charge_mode, set_charge_target) and say why, in at most "
                "five bullet points. Changes need the owner's confirmation: propose "
                "them, and only call an acting tool when the owner agrees."
            ),
            "pt-BR": (
                "Planeje a recarga desta noite. Necessidades para amanhã: {needs}. "
                "Leia get_site_status e get_plan e proponha modos e metas de recarga "
                "por veículo (set_charge_mode, set_charge_target), explicando o "
                "porquê, em no máximo cinco tópicos. Mudanças exigem a confirmação "
                "do proprietário: proponha e só chame uma ferramenta de ação quando "
                "ele concordar."
            ),
        },
    ),
    "explain_my_bill": PromptDef(
        name="explain_my_bill",
        description="Explain where the energy of a period went and what it cost.",
        arguments=(
            PromptArg("period", "e.g. 'last 7 days' or '2026-10'"),
            PromptArg("price", "energy price per kWh, if known"),
            LANGUAGE_ARG,
        ),
        defaults={"period": "the last 7 days", "price": "unknown"},
        templates={
            "en": (
                "Explain my energy bill for {period} (price per kWh: {price}). Use "
                "get_history on the grid, solar, battery and house sensors (find "
                "them with search_entities, device_class energy or power) and "
                "get_sessions for EV charging. Break consumption down into house, "
                "EVs and battery losses, show how much solar covered, estimate cost "
                "when the price is known, and name the biggest saving opportunity."
            ),
            "pt-BR": (
                "Explique minha conta de energia de {period} (preço por kWh: "
                "{price}). Use get_history nos sensores de rede, solar, bateria e "
                "casa (encontre-os com search_entities, device_class energy ou "
                "power) e get_sessions para a recarga dos veículos. Divida o consumo "
                "entre casa, veículos e perdas da bateria, mostre quanto o solar "
                "cobriu, estime o custo quando o preço for conhecido e aponte a "
                "maior oportunidade de economia."
            ),
        },
    ),
}


class PromptError(ValueError):
    """Unknown prompt or missing argument."""


def render(name: str, arguments: Mapping[str, str] | None = None) -> str:
    """The prompt's text in the requested language with its arguments filled."""
    prompt = PROMPTS.get(name)
    if prompt is None:
        raise PromptError(f"unknown prompt {name!r}")
    args = {**prompt.defaults, **{k: v for k, v in (arguments or {}).items() if v}}
    for arg in prompt.arguments:
        if arg.required and not args.get(arg.name):
            raise PromptError(f"prompt {name} needs the argument {arg.name!r}")
    language = args.pop("language", "en")
    if language not in prompt.templates:
        language = "pt-BR" if str(language).lower().startswith("pt") else "en"
    values = {a.name: args.get(a.name, "") for a in prompt.arguments}
    return prompt.templates[language].format(**values)
