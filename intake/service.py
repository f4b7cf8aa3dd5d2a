"""Open311 GeoReport v2 intake service (FastAPI): the app, served as `uvicorn intake.service:app`."""

from __future__ import annotations

from fastapi import FastAPI

from intake.errors import add_error_handlers
from intake.limits import BodyLimit
from intake.routes import router
from intake.state import lifespan
from settings import get_settings


def create_app(database_url: str | None = None) -> FastAPI:
    """The intake application (database from settings.database_url unless given)."""
    settings = get_settings()
    app = FastAPI(
        title="CityOps Open311 intake 城运事件受理",
        version="2.0",
        description="Open311 GeoReport v2 for the city operations centre, with extensions for the "
        "command centre's lifecycle (reported > dispatched > handling > resolved > closed; voided, "
        "parked, escalated). Errors are arrays of {code, description}.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.database_url = database_url
    app.add_middleware(
        BodyLimit, max_bytes=settings.intake_max_body_bytes, max_seconds=settings.intake_body_timeout_seconds
    )
    add_error_handlers(app)
    app.include_router(router)
    return app


app = create_app()
