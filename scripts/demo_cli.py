"""The demo's command line: its flags, checked before anything is built or started.

Standard library only, so `scripts/demo --help` (and a mistyped flag) answers at
once with the Python that builds the venvs, before the venvs exist. Run as a script
it only parses: exit 0 when the flags are fine, 2 with argparse's message when not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent.parent / ".demo"
#: The MCP add-on's port when --mcp-port is not given (any free port if taken).
MCP_PORT = 8765
#: The languages the integration is translated into.
LANGUAGES = ("en", "pt-BR", "zh-Hans")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The demo's options."""
    parser = argparse.ArgumentParser(
        prog="scripts/demo",
        description=(
            "Home Assistant with Energy Coordinator, simulated chargers and the MCP "
            "add-on, on this machine only (127.0.0.1). The first run builds .venv "
            "and .venv-addon."
        ),
    )
    parser.add_argument(
        "--ha-port", type=int, default=8123, help="HA HTTP port (default 8123)"
    )
    parser.add_argument(
        "--ocpp-port", type=int, default=9000, help="OCPP port (default 9000)"
    )
    parser.add_argument(
        "--mcp-port",
        type=int,
        default=None,
        help=f"the MCP add-on's port (default {MCP_PORT}, or a free one if taken)",
    )
    parser.add_argument(
        "--chargers",
        type=int,
        default=2,
        help="simulated chargers (OCPP 1.6J and 2.0.1 alternate; default 2)",
    )
    parser.add_argument(
        "--no-simulators", action="store_true", help="start no simulated chargers"
    )
    parser.add_argument(
        "--dir", type=Path, default=DEMO_DIR, help="demo state directory (.demo)"
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="the demo's clock: demo seconds per real second, for the household, "
        "the chargers' energy and the site's delays (default 60: 1 s = 1 min)",
    )
    parser.add_argument(
        "--language",
        choices=LANGUAGES,
        default="en",
        help="Home Assistant's language, so entity names are in it (default en)",
    )
    parser.add_argument(
        "--session-pause",
        type=float,
        default=30.0,
        help="real seconds between a simulated charger's sessions",
    )
    args = parser.parse_args(argv)
    if args.chargers < 1 and not args.no_simulators:
        parser.error("--chargers must be >= 1 (or use --no-simulators)")
    if args.speed <= 0:
        parser.error("--speed must be > 0")
    for flag in ("ha_port", "ocpp_port", "mcp_port"):
        port = getattr(args, flag)
        if port is not None and not 1 <= port <= 65535:
            parser.error(f"--{flag.replace('_', '-')} must be a TCP port (1-65535)")
    return args


if __name__ == "__main__":
    parse_args(sys.argv[1:])
