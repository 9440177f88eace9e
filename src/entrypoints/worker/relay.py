"""Run the outbox relay until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

from entrypoints.container import Container, close

logger = logging.getLogger(__name__)


async def run_relay(container: Container) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    relay = container.relay()
    sweeping = asyncio.create_task(container.redelivery().run(stop, container.settings().relay_sweep_seconds))
    logger.info("outbox relay started")
    try:
        await relay.run(stop)
    finally:
        stop.set()
        await sweeping
        await close(container)
        logger.info("outbox relay stopped")
