"""Test-only custom integration: Home Assistant's LLM API as actions with responses.

HA has no REST endpoint for LLM tools; a conversation agent calls them in-process.
This integration (linked into the add-on tests' `hass` config by stack.py, set up
by `llm_probe:` in configuration.yaml) does what an agent does, as actions a test
calls over REST:
- `llm_probe.list_tools` (`api_id`): the API's tools, each with its parameters as
  an agent hands them to a model (`voluptuous_openapi.convert`);
- `llm_probe.call_tool` (`api_id`, `tool`, `arguments`): validates the arguments
  with the tool's converted schema (as newer HA does before a call) and calls the
  tool through `llm.async_get_api(...).async_call_tool(...)`.
Never shipped: it lives in tests_addon/ and runs only in the test venv's `hass`.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import llm
from homeassistant.helpers.typing import ConfigType
from voluptuous_openapi import convert

DOMAIN = "llm_probe"
CONFIG_SCHEMA = vol.Schema({DOMAIN: {}}, extra=vol.ALLOW_EXTRA)


def _context(call: ServiceCall) -> llm.LLMContext:
    return llm.LLMContext(
        platform=DOMAIN,
        context=call.context,
        user_prompt=None,
        language="en",
        assistant="conversation",
        device_id=None,
    )


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the two actions."""

    async def list_tools(call: ServiceCall) -> ServiceResponse:
        api = await llm.async_get_api(hass, call.data["api_id"], _context(call))
        return {
            "api": api.api.name,
            "tools": [
                {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": convert(
                        tool.parameters, custom_serializer=api.custom_serializer
                    ),
                }
                for tool in api.tools
            ],
        }

    async def call_tool(call: ServiceCall) -> ServiceResponse:
        api = await llm.async_get_api(hass, call.data["api_id"], _context(call))
        name = call.data["tool"]
        tool = next((t for t in api.tools if t.name == name), None)
        if tool is None:
            raise HomeAssistantError(f"no tool {name}")
        try:
            arguments: dict[str, Any] = tool.parameters(call.data["arguments"])
        except vol.Invalid as err:
            raise HomeAssistantError(f"{name}: arguments refused: {err}") from err
        result = await api.async_call_tool(
            llm.ToolInput(tool_name=name, tool_args=arguments)
        )
        return {"arguments": arguments, "result": result}

    hass.services.async_register(
        DOMAIN,
        "list_tools",
        list_tools,
        schema=vol.Schema({vol.Required("api_id"): str}),
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        "call_tool",
        call_tool,
        schema=vol.Schema(
            {
                vol.Required("api_id"): str,
                vol.Required("tool"): str,
                vol.Optional("arguments", default={}): dict,
            }
        ),
        supports_response=SupportsResponse.ONLY,
    )
    return True
