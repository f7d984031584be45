"""`registry worker`: loads uploaded extracts and keeps Elasticsearch following Postgres."""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

from elasticsearch import ApiError, TransportError
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from registry.indexing import (DrainPostponed, IndexingFailed, drain_outbox, quiet_elasticsearch_transport,
                               search_problem)
from registry.processing import process_uploads
from search.gateway import SearchGateway

log = logging.getLogger("registry.worker")


def run_worker(engine: Engine, gateway: SearchGateway, once: bool = False, interval: float = 2.0) -> None:
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    quiet_elasticsearch_transport()
    _warn_if_index_is_older(gateway)
    while not stopping:
        try:
            process_uploads(engine)
        except Exception:
            # Each extract's own failures are handled in process_uploads; this is the rest
            # (Postgres away while listing): log it and poll again, as for Elasticsearch.
            log.exception("processing uploads failed; trying again at the next poll")
        _drain(engine, gateway)
        if once:
            return
        time.sleep(interval)


def _drain(engine: Engine, gateway: SearchGateway) -> None:
    try:
        indexed = drain_outbox(engine, gateway)
        if indexed:
            log.info("indexed %d documents", indexed)
    except DrainPostponed as waiting:
        log.info("indexing waits: %s", waiting)
    except (TransportError, ApiError, IndexingFailed) as error:
        # Elasticsearch is away: the outbox keeps every change until it is back.
        log.warning("indexing postponed: %s", search_problem(error, gateway))
    except OperationalError as error:
        # Postgres is away: nothing can be read to index; the next poll tries again.
        log.warning("indexing postponed, Postgres unreachable: %s", error.orig)


def _warn_if_index_is_older(gateway: SearchGateway) -> None:
    try:
        if not gateway.built_for_this_release():
            log.warning("the live index %s was built by an older release: searches miss what "
                        "this release indexes differently until `registry index rebuild`",
                        gateway.current_index())
    except (TransportError, ApiError) as error:
        log.warning("could not check the live index: %s", search_problem(error, gateway))
