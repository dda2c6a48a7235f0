"""Command line: ``python -m simulator --url ws://127.0.0.1:9000 --chargers 2``.

Owns argument parsing, logging setup and the run-until-signal loop: start the
fleet (staggered), run until Ctrl-C or SIGTERM, then stop every charger cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence

from .runner import QUIRKS, VERSIONS, apply_quirks, make_fleet, start_all, stop_all

_LOGGER = logging.getLogger("simulator")


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def _versions(text: str) -> list[str]:
    versions = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [v for v in versions if v.lower() not in VERSIONS]
    if not versions or unknown:
        raise argparse.ArgumentTypeError(
            f"versions must be a comma separated list of 1.6 / 2.0.1 (got {text!r})"
        )
    return versions


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="Simulated OCPP 1.6J / 2.0.1 charge points with EVs.",
    )
    parser.add_argument(
        "--url",
        required=True,
        help="central system base URL; each charger connects to <url>/<id>",
    )
    parser.add_argument("--chargers", type=int, default=1, help="number of chargers")
    parser.add_argument(
        "--versions",
        type=_versions,
        default=["1.6"],
        help="OCPP versions, assigned round robin (e.g. 1.6,2.0.1)",
    )
    parser.add_argument("--password", help="HTTP Basic auth password (user = id)")
    parser.add_argument("--id-prefix", default="sim", help="charger id prefix")
    parser.add_argument("--first", type=int, default=1, help="first charger number")
    parser.add_argument(
        "--connectors", type=int, default=1, help="connectors (EVSEs) per charger"
    )
    parser.add_argument(
        "--meter-interval",
        type=_positive_float,
        default=10.0,
        help="seconds between meter values while charging",
    )
    parser.add_argument("--voltage", type=_positive_float, default=230.0)
    parser.add_argument("--phases", type=int, choices=(1, 2, 3), default=3)
    parser.add_argument("--max-current", type=_positive_float, default=32.0)
    parser.add_argument(
        "--meter-start", type=float, default=0.0, help="initial energy register (Wh)"
    )
    parser.add_argument(
        "--auto-session",
        action="store_true",
        help="plug EVs in, charge to target, unplug and repeat",
    )
    parser.add_argument(
        "--session-pause",
        type=_positive_float,
        default=30.0,
        help="pause between auto sessions (s)",
    )
    parser.add_argument(
        "--speed",
        type=_positive_float,
        default=1.0,
        help="time acceleration of battery charging (energy per second x speed)",
    )
    parser.add_argument(
        "--stagger",
        type=float,
        default=0.02,
        help="seconds between two charger connects",
    )
    parser.add_argument("--reconnect-delay", type=_positive_float, default=5.0)
    parser.add_argument("--seed", type=int, help="random seed for demo EVs")
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
    )
    parser.add_argument(
        "--log-frames", action="store_true", help="log every OCPP frame"
    )
    parser.add_argument(
        "--quirk",
        action="append",
        default=[],
        choices=sorted(QUIRKS),
        help="misbehave like some chargers do (repeatable): "
        + "; ".join(f"{name}: {what}" for name, what in QUIRKS.items()),
    )
    return parser


async def run(args: argparse.Namespace) -> None:
    fleet = make_fleet(
        args.url,
        args.chargers,
        args.versions,
        id_prefix=args.id_prefix,
        first=args.first,
        password=args.password,
        connectors=args.connectors,
        meter_interval=args.meter_interval,
        voltage=args.voltage,
        phases=args.phases,
        max_current=args.max_current,
        meter_start_wh=args.meter_start,
        auto_session=args.auto_session,
        auto_session_pause=args.session_pause,
        speed=args.speed,
        reconnect_delay=args.reconnect_delay,
        seed=args.seed,
    )
    for cp in fleet:
        apply_quirks(cp, args.quirk)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    _LOGGER.info(
        "starting %d charger(s) against %s (%s)",
        len(fleet),
        args.url,
        ",".join(args.versions),
    )
    try:
        starter = asyncio.create_task(start_all(fleet, stagger=args.stagger))
        await stop.wait()
        starter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starter
    finally:
        _LOGGER.info("stopping %d charger(s)", len(fleet))
        await stop_all(fleet)
        _LOGGER.info("all chargers stopped")
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.chargers < 1:
        build_parser().error("--chargers must be >= 1")
    logging.basicConfig(
        level=getattr(logging, args.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("simulator.ocpp").setLevel(
        logging.INFO if args.log_frames else logging.WARNING
    )
    logging.getLogger("websockets").setLevel(logging.WARNING)
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
