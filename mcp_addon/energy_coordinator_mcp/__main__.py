"""Command line: `python -m energy_coordinator_mcp [serve|ask] …`.

Owns argument parsing (HA address and token, transport, host and ports, data
directory, options file), logging with secret redaction, and the process
lifecycle: connect to HA in the background, serve MCP over HTTP (plus the ingress
page) or stdio, stop cleanly on SIGTERM/SIGINT. `ask` hands a question to the
assistant module (when installed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from . import __version__
from .app import (
    assistant_hooks,
    serve_http,
    serve_stdio,
    start_background,
    stop_background,
)
from .config import (
    DEFAULT_DATA_DIR,
    DEFAULT_HA_URL,
    DEFAULT_INGRESS_PORT,
    DEFAULT_PORT,
    Options,
    OptionsError,
    Settings,
    env_default,
)
from .context import AddonContext

_LOGGER = logging.getLogger("energy_coordinator_mcp")


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m energy_coordinator_mcp",
        description="MCP server for Home Assistant and Energy Coordinator.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--ha-url",
        default=env_default("HA_URL", DEFAULT_HA_URL),
        help="Home Assistant base URL (default: the Supervisor proxy)",
    )
    parser.add_argument(
        "--ha-token",
        default=env_default("SUPERVISOR_TOKEN", env_default("HA_TOKEN")),
        help="HA access token (default: $SUPERVISOR_TOKEN, then $HA_TOKEN)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(env_default("EC_MCP_DATA_DIR", str(DEFAULT_DATA_DIR))),
        help="where the token, secret path and audit log live (default /data)",
    )
    parser.add_argument(
        "--options",
        type=Path,
        help="options JSON file (default: <data-dir>/options.json)",
    )
    parser.add_argument("--read-only", action="store_true", help="force read-only")
    parser.add_argument(
        "--log-level", choices=("debug", "info", "warning", "error"), default=None
    )
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="serve MCP (the default)")
    _serve_arguments(serve)
    _serve_arguments(parser)
    ask = sub.add_parser("ask", help="ask the Claude assistant a question")
    ask.add_argument("question", nargs="+", help="the question")
    ask.add_argument(
        "--confirm", help="confirmation code of a pending action to carry out"
    )
    return parser


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--transport", choices=("http", "stdio"), default=argparse.SUPPRESS
    )
    parser.add_argument("--host", default=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=argparse.SUPPRESS)
    parser.add_argument(
        "--ingress-port",
        type=int,
        default=argparse.SUPPRESS,
        help=f"status page port (default {DEFAULT_INGRESS_PORT}; 0: none)",
    )
    parser.add_argument(
        "--public-url",
        default=argparse.SUPPRESS,
        help="base URL clients use to reach the MCP port (shown on the status page)",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from parsed arguments and the options file."""
    data_dir: Path = args.data_dir
    options = Options.load(args.options or data_dir / "options.json")
    if args.read_only:
        options = replace(options, read_only=True)
    if args.log_level:
        options = replace(options, log_level=args.log_level)
    return Settings(
        options=options,
        ha_url=args.ha_url,
        ha_token=args.ha_token or "",
        data_dir=data_dir,
        transport=getattr(args, "transport", "http"),
        host=getattr(args, "host", "0.0.0.0"),
        port=getattr(args, "port", DEFAULT_PORT),
        ingress_port=getattr(args, "ingress_port", DEFAULT_INGRESS_PORT),
        public_url=getattr(args, "public_url", ""),
    )


def setup_logging(level: str) -> None:
    """Log to stderr (stdout may carry the stdio transport)."""
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpx2", "mcp.server.lowlevel", "sse_starlette"):
        logging.getLogger(noisy).setLevel(
            max(logging.WARNING, logging.getLogger().level)
        )


async def run_server(settings: Settings) -> int:
    """Serve until stopped; the exit code."""
    ctx = AddonContext.create(settings)
    ctx.install_log_redaction()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await ctx.ha.start(wait=None)
    try:
        if settings.transport == "stdio":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ctx.ha.ready.wait(), 30)
            stdio = asyncio.create_task(serve_stdio(ctx))
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait([stdio, stopper], return_when=asyncio.FIRST_COMPLETED)
            stdio.cancel()
            stopper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stdio
            return 0
        await start_background(ctx)

        async def started() -> None:
            _LOGGER.info(
                "MCP on %s:%s (read-only: %s), status page on port %s",
                settings.host,
                settings.port,
                settings.options.read_only,
                settings.ingress_port or "-",
            )

        await serve_http(ctx, stop, started=started)
        return 0
    finally:
        await stop_background(ctx)
        await ctx.ha.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from(args)
    except OptionsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    setup_logging(settings.options.log_level)
    if not settings.ha_token:
        print(
            "error: no Home Assistant token (--ha-token, SUPERVISOR_TOKEN or HA_TOKEN)",
            file=sys.stderr,
        )
        return 2
    if args.command == "ask":
        hooks = assistant_hooks()
        if hooks is None or not hasattr(hooks, "ask_cli"):
            print(
                "error: the assistant is not installed in this build", file=sys.stderr
            )
            return 2
        return int(asyncio.run(hooks.ask_cli(settings, args)))
    return asyncio.run(run_server(settings))


if __name__ == "__main__":
    raise SystemExit(main())
