"""Typed settings read once from the environment: the only module that reads os.environ."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "cityops.sqlite"


class Settings(BaseSettings):
    """Every setting with its default; override with CITYOPS_<NAME> (or DATABASE_URL)."""

    model_config = SettingsConfigDict(env_prefix="CITYOPS_", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_SQLITE_PATH}",
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL: sqlite:///path (SpatiaLite) or postgresql+psycopg2://...",
    )
    spatialite_library_path: str = Field(
        default="mod_spatialite",
        # GeoAlchemy2's own variable too: the scripts export it, and it was the one read before.
        validation_alias=AliasChoices("CITYOPS_SPATIALITE_LIBRARY_PATH", "SPATIALITE_LIBRARY_PATH"),
        description="Name or path of the SpatiaLite extension (Debian: libsqlite3-mod-spatialite).",
    )
    timezone: str = Field(default="Asia/Shanghai", description="Local time of the city.")
    city_code: str = Field(default="330200", description="Code of the top area (Ningbo).")
    stale_after_hours: float = Field(
        default=24.0, gt=0, description="Facility data older than this is shown as stale."
    )
    basemap_tile_url: str | None = Field(
        default=None,
        description="Optional basemap style URL (e.g. a local tile server's style.json); "
        "None draws no basemap, so the app works on an isolated network.",
    )
    # 3 s: with the 2 s cache below it, a new incident shows within about 5 s (bench/bench_live.py).
    live_refresh_seconds: int = Field(default=3, ge=2, description="Live panel refresh period (seconds).")
    map_refresh_seconds: int = Field(default=10, ge=2, description="Live map refresh period (seconds).")
    recent_minutes: int = Field(
        default=15, ge=1, description="Incidents reported this many minutes ago or less are highlighted as "
        "recent on the map and the wall.",
    )
    wall_rotation_seconds: int = Field(default=30, ge=5, description="Wall playlist period.")
    wall_playlist: str = Field(
        default="330200,330212,330203,330205,330206,330211",
        description="Comma-separated scope codes the wall rotates through.",
    )
    walking_distance_m: float = Field(default=1000.0, gt=0, description="Assembly point reach.")
    chromium_path: str = Field(
        default="/usr/bin/chromium",
        description="Chromium that kaleido drives to export charts as PNG/SVG/PDF (Debian: chromium).",
    )
    intake_url: str = Field(
        default="http://127.0.0.1:8502", description="Base URL of the Open311 intake service."
    )
    intake_max_body_bytes: int = Field(default=64_000, gt=0, description="Largest accepted body.")
    intake_writer_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="FULL",
        description="SQLite synchronous mode of the intake writer's commits (PostgreSQL: FULL sets "
        "synchronous_commit=on). FULL: a 201 survives a power cut. NORMAL only to measure the difference "
        "(bench/bench_intake.py): its last commits can be lost to a power cut or an OS crash.",
    )
    intake_queue_max: int = Field(
        default=1000, ge=1, description="Writes waiting for the intake writer before new ones get 503 "
        "(about a second of work at the measured rate; bench/results.md).",
    )
    intake_write_timeout_seconds: float = Field(
        default=10.0, gt=0, description="A write not committing within this time is given up (503, "
        "nothing stored).",
    )
    intake_body_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Time a client has to send a whole request body (else 408).",
    )
    intake_max_url_bytes: int = Field(
        default=61_440, gt=0, description="Longest request target (path and query) accepted (else 414): "
        "1,000 ids of 18 digits take 19 KB; below the HTTP parser's own limit near 64 KB.",
    )

    auth_roles_claim: str = Field(
        default="cityops_roles", description="The ID token claim holding the user's roles (a list, or codes separated "
        "by spaces or commas); a dotted path reaches into objects, e.g. Keycloak's `realm_access.roles`. A token "
        "without it takes the roles of the user's app_user row (cli.py users).",
    )
    auth_area_claim: str = Field(
        default="cityops_area", description="The ID token claim holding the user's home area code (a dotted path "
        "as above); a token without it takes the app_user row's.",
    )

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("DATABASE_URL must start with sqlite:/// or postgresql://")
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings."""
    return Settings()
