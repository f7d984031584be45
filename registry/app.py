"""The application factory: resources are made here, kept on the app, torn down per request."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import redis
from elastic_transport import OrjsonSerializer
from elasticsearch import Elasticsearch
from flask import Flask, Response, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.routing import IntegerConverter, Map

from registry import auth, health, limits
from registry.config import Settings
from registry.db import make_engine, make_session_factory
from registry.errors import register_error_handlers
from registry.models.base import MAX_ROW_ID
from search.gateway import SearchGateway


@dataclass
class RegistryExtension:
    """What a request needs, created once per app (and so once per worker process)."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    es: Elasticsearch
    redis: redis.Redis
    search: SearchGateway = field(init=False)

    def __post_init__(self) -> None:
        self.search = SearchGateway(self.es, self.settings.index_prefix)

    def session(self) -> Session:
        """The request's session; the request owns its transaction."""
        if "db_session" not in g:
            g.db_session = self.session_factory()
        session: Session = g.db_session
        return session


def make_es(url: str) -> Elasticsearch:
    # Short timeouts: a search must fail fast and clearly, not hang a worker.
    # orjson: about half the serialisation time of the standard library on our documents.
    return Elasticsearch(url, request_timeout=10, max_retries=1, retry_on_timeout=False,
                         serializers={"application/json": OrjsonSerializer()})


def make_redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


class RowIdConverter(IntegerConverter):
    """`<int:...>` in a route: ids in paths are row ids, so a number beyond Postgres's bigint
    matches no route (404) instead of overflowing inside the query (500)."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(url_map, *args, **kwargs)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.url_map.converters["int"] = RowIdConverter  # before any route is registered
    app.config.update(SECRET_KEY=settings.secret_key or None, TESTING=settings.testing,
                      MAX_CONTENT_LENGTH=settings.max_upload_bytes)
    _configure_session_cookie(app, settings)
    engine = make_engine(settings.database_url)
    app.extensions["registry"] = RegistryExtension(
        settings, engine, make_session_factory(engine), make_es(settings.elasticsearch_url),
        make_redis(settings.redis_url),
    )
    register_error_handlers(app)
    auth.install(app)
    limits.install(app)  # after auth: the limits are per signed-in user
    _install_transaction(app)
    _register_blueprints(app)
    logging.getLogger("elastic_transport").setLevel(logging.WARNING)
    return app


def _configure_session_cookie(app: Flask, settings: Settings) -> None:
    # The cookie is never readable by scripts, never sent cross-site, and (outside local
    # plain-http development) only over TLS; it lives as long as a working day.
    app.config.update(SESSION_COOKIE_NAME="registry_session", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SECURE=settings.session_cookie_secure,
                      SESSION_COOKIE_SAMESITE="Strict",
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours))


def _register_blueprints(app: Flask) -> None:
    from registry.api import blueprint as api
    from registry.web import blueprint as web

    app.register_blueprint(health.blueprint)
    app.register_blueprint(api, url_prefix="/api/v1")
    app.register_blueprint(web)


def _install_transaction(app: Flask) -> None:
    @app.after_request
    def _commit(response: Response) -> Response:
        # Commit before the response leaves, so a client never sees success for work
        # (or an audit event) that did not reach the database.
        session: Session | None = g.pop("db_session", None)
        if session is None:
            return response
        try:
            if response.status_code < 500:
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()
