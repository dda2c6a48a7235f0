"""Token budgets (o200k, offline BPE): tools/list and the energy question.

Targets from the issue: `tools/list` ≤ 1,500 tokens, and one `get_site_status` call
answers "what are solar, grid, home battery and each EV doing right now" completely,
with units, in ≤ 700 tokens.
"""

from __future__ import annotations

import bpe_openai
from energy_coordinator_mcp.context import AddonContext
from helpers import payload
from mcp import Client

ENCODING = bpe_openai.get_encoding("o200k_base")


def tokens(text: str) -> int:
    """o200k tokens of a text."""
    return len(ENCODING.encode(text))


async def test_tools_list_fits_in_1500_tokens(client: Client) -> None:
    listing = await client.list_tools()
    wire = listing.model_dump_json(by_alias=True, exclude_none=True)
    count = tokens(wire)
    print(f"tools/list: {count} tokens, {len(wire)} chars, {len(listing.tools)} tools")
    assert count <= 1500


async def test_energy_question_in_one_call_under_700_tokens(
    client: Client, ctx: AddonContext
) -> None:
    # With a decision on record (its summary is part of the answer).
    await ctx.ha.call_service(
        "energy_coordinator", "coordinate", {}, return_response=True
    )
    result = await client.call_tool("get_site_status", {})
    text = result.content[0].text  # type: ignore[union-attr]
    count = tokens(text)
    print(f"get_site_status: {count} tokens: {text}")
    assert count <= 700
    answer = payload(result)
    # Complete, with units: solar, grid, home battery, every EV.
    assert answer["solar"].endswith(" kW")
    assert " kW" in answer["grid"]
    assert "% SoC" in answer["home_battery"] and " kW" in answer["home_battery"]
    assert len(answer["evs"]) == 2
    assert all(ev["state"] for ev in answer["evs"])
    assert answer["coordinator"]["at"] and answer["coordinator"]["why"]
