"""Tables of the spatial store (SQLAlchemy Core + GeoAlchemy2), the same on SpatiaLite and PostGIS."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.engine import Engine

metadata = sa.MetaData()


def _code(name: str, **kw: Any) -> sa.Column[str]:
    return sa.Column(name, sa.String(15), **kw)


def _ancestor_columns() -> list[sa.Column[Any]]:
    """The grid and its ancestors' codes: any roll-up of a point row is then a GROUP BY."""
    return [
        _code("grid_code", index=True),
        _code("community_code", index=True),
        _code("street_code", index=True),
        _code("district_code", index=True),
    ]


def _facility_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=True)),
        *_ancestor_columns(),
        sa.Column("last_updated", sa.DateTime, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("synthetic", sa.Boolean, nullable=False, default=False),
    ]


area = sa.Table(
    "area",
    metadata,
    _code("code", primary_key=True),
    sa.Column("level", sa.String(10), nullable=False),
    _code("parent_code", index=True),
    sa.Column("name", sa.String(64), nullable=False),
    _code("district_code"),
    _code("street_code"),
    _code("community_code"),
    sa.Column("population", sa.Integer, nullable=False),
    sa.Column("households", sa.Integer, nullable=False),
    sa.Column("area_km2", sa.Float, nullable=False),
    sa.Column("centroid_lon", sa.Float, nullable=False),
    sa.Column("centroid_lat", sa.Float, nullable=False),
    sa.Column("synthetic", sa.Boolean, nullable=False),
    sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=True)),
    # Simplified per level with a coverage-preserving method: what the browser is sent.
    sa.Column("display_geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)),
)

assembly_point = sa.Table(
    "assembly_point",
    metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("occupancy", sa.Integer, nullable=False, default=0),
    sa.Column("status", sa.String(10), nullable=False),
    *_facility_columns(),
)

supply_depot = sa.Table(
    "supply_depot",
    metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    *_facility_columns(),
)

stock = sa.Table(
    "stock",
    metadata,
    sa.Column("depot_code", sa.String(32), sa.ForeignKey("supply_depot.code"), primary_key=True),
    sa.Column("item", sa.String(32), primary_key=True),
    sa.Column("category", sa.String(32), nullable=False),
    sa.Column("quantity", sa.Float, nullable=False),
    sa.Column("unit", sa.String(8), nullable=False),
    sa.Column("min_level", sa.Float, nullable=False),
    sa.Column("daily_need_per_1000", sa.Float, nullable=False),
    sa.Column("last_updated", sa.DateTime, nullable=False),
)

hospital = sa.Table(
    "hospital",
    metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("grade", sa.String(16), nullable=False),
    sa.Column("fever_clinic", sa.Boolean, nullable=False),
    sa.Column("convertible_beds", sa.Integer, nullable=False),
    *_facility_columns(),
)

hospital_beds = sa.Table(
    "hospital_beds",
    metadata,
    sa.Column("hospital_code", sa.String(32), sa.ForeignKey("hospital.code"), primary_key=True),
    sa.Column("bed_type", sa.String(16), primary_key=True),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("occupied", sa.Integer, nullable=False),
)

incident = sa.Table(
    "incident",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("external_id", sa.String(64), nullable=False, unique=True),
    sa.Column("idempotency_key", sa.String(128), unique=True),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("category", sa.String(24), nullable=False),
    sa.Column("priority", sa.String(10), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("description", sa.String(500)),
    sa.Column("address", sa.String(200)),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("lat", sa.Float, nullable=False),
    _code("grid_code", nullable=False),
    _code("community_code", nullable=False),
    _code("street_code", nullable=False),
    _code("district_code", nullable=False),
    # Epoch hour of the report: the roll-up bucket, stored so no query computes it.
    sa.Column("report_hour", sa.Integer, nullable=False),
    sa.Column("reported_at", sa.DateTime, nullable=False),
    sa.Column("dispatched_at", sa.DateTime),
    sa.Column("handling_at", sa.DateTime),
    sa.Column("resolved_at", sa.DateTime),
    sa.Column("closed_at", sa.DateTime),
    sa.Column("voided_at", sa.DateTime),
    sa.Column("parked_at", sa.DateTime),
    sa.Column("escalated_at", sa.DateTime),
    sa.Column("due_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("close_minutes", sa.Integer),
    # Bin of close_minutes (queries.rollups.CLOSE_BIN_EDGES) and whether it closed by due_at.
    sa.Column("close_bin", sa.Integer),
    sa.Column("on_time", sa.Boolean),
    sa.Column("synthetic", sa.Boolean, nullable=False, default=False),
    sa.Index("ix_incident_district_time", "district_code", "reported_at"),
    sa.Index("ix_incident_street_time", "street_code", "reported_at"),
    sa.Index("ix_incident_community_time", "community_code", "reported_at"),
    sa.Index("ix_incident_grid_time", "grid_code", "reported_at"),
    sa.Index("ix_incident_time", "reported_at"),
    sa.Index("ix_incident_status_due", "status", "due_at"),
)

# Personal data of reporters, kept apart from the incident and never shown unmasked by default.
incident_contact = sa.Table(
    "incident_contact",
    metadata,
    sa.Column("incident_id", sa.Integer, sa.ForeignKey("incident.id"), primary_key=True),
    sa.Column("name", sa.String(64)),
    sa.Column("phone", sa.String(32)),
    sa.Column("email", sa.String(128)),
)

# The lifecycle steps taken through the intake service (who-did-what log; the note of the latest
# step is the Open311 status_notes detail). Bulk-loaded demo incidents have no steps.
incident_step = sa.Table(
    "incident_step",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_id", sa.Integer, sa.ForeignKey("incident.id"), nullable=False, index=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("action", sa.String(12), nullable=False),
    sa.Column("from_status", sa.String(12), nullable=False),
    sa.Column("to_status", sa.String(12), nullable=False),
    sa.Column("note", sa.String(500)),
)

# Keys of intake writes that the incident row cannot hold, written in the transaction of the write they
# name, so a crash leaves both or neither: "step:<Idempotency-Key>" of a lifecycle step, with the request
# it was sent with (a hash) and the answer it got, so a retry is answered the same; "content:<hash>" of a
# report sent with neither Idempotency-Key nor external_id, so the same report sent again within
# queries.intake.CONTENT_KEY_WINDOW finds the incident it created.
intake_key = sa.Table(
    "intake_key",
    metadata,
    sa.Column("key", sa.String(160), primary_key=True),
    # None only inside the transaction that claims a content key, until its incident is inserted.
    sa.Column("incident_id", sa.Integer, sa.ForeignKey("incident.id")),
    sa.Column("fingerprint", sa.String(64)),
    sa.Column("answer", sa.Text),
    sa.Column("at", sa.DateTime, nullable=False),
)

# Counts per area (every level), report hour, category, source and current status; maintained in
# the transaction of every incident write so dashboards never scan raw incidents for counts. One copy
# of each roll-up, ordered by its key (area first): a scope's children are read by their codes, one
# seek each (queries.incidents); a count that falls to zero is deleted, so only non-zero rows are kept.
# (parent_code is kept for audits and tests; no read needs it.)
incident_rollup = sa.Table(
    "incident_rollup",
    metadata,
    _code("area_code", primary_key=True),
    sa.Column("hour", sa.Integer, primary_key=True),
    sa.Column("category", sa.String(24), primary_key=True),
    sa.Column("source", sa.String(20), primary_key=True),
    sa.Column("status", sa.String(12), primary_key=True),
    _code("parent_code"),
    sa.Column("n", sa.Integer, nullable=False),
    sqlite_with_rowid=False,
)

# The same counts per UTC day (epoch hour // 24): a 30-day window reads whole days here and only
# its ragged edges from the hourly table. Besides a row per category and source, each (area, day,
# status) has a row with category = source = ANY holding their total: unfiltered figures read those
# few rows; filtered ones seek their categories and sources (key order: area, category, source, day).
ANY = "*"
incident_rollup_day = sa.Table(
    "incident_rollup_day",
    metadata,
    _code("area_code", primary_key=True),
    sa.Column("category", sa.String(24), primary_key=True),
    sa.Column("source", sa.String(20), primary_key=True),
    sa.Column("day", sa.Integer, primary_key=True),
    sa.Column("status", sa.String(12), primary_key=True),
    _code("parent_code"),
    sa.Column("n", sa.Integer, nullable=False),
    sqlite_with_rowid=False,
)

# Closed incidents per area, report hour, category, source, close-time bin and on-time flag:
# medians and on-time rates for any scope, window and filter without reading raw incidents.
incident_close_rollup = sa.Table(
    "incident_close_rollup",
    metadata,
    _code("area_code", primary_key=True),
    sa.Column("hour", sa.Integer, primary_key=True),
    sa.Column("category", sa.String(24), primary_key=True),
    sa.Column("source", sa.String(20), primary_key=True),
    sa.Column("close_bin", sa.Integer, primary_key=True),
    sa.Column("on_time", sa.Boolean, primary_key=True),
    _code("parent_code"),
    sa.Column("n", sa.Integer, nullable=False),
    sqlite_with_rowid=False,
)

# The close-time bins per UTC day, with ANY rows as in incident_rollup_day.
incident_close_rollup_day = sa.Table(
    "incident_close_rollup_day",
    metadata,
    _code("area_code", primary_key=True),
    sa.Column("category", sa.String(24), primary_key=True),
    sa.Column("source", sa.String(20), primary_key=True),
    sa.Column("day", sa.Integer, primary_key=True),
    sa.Column("close_bin", sa.Integer, primary_key=True),
    sa.Column("on_time", sa.Boolean, primary_key=True),
    _code("parent_code"),
    sa.Column("n", sa.Integer, nullable=False),
    sqlite_with_rowid=False,
)

scenario = sa.Table(
    "scenario",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("overrides", sa.Text, nullable=False),
)

# The users an admin keeps (cli.py users, the Users page): roles (role codes of access.MATRIX, comma-separated)
# and home area, used when the ID token carries none; a disabled user is refused whatever the token says.
app_user = sa.Table(
    "app_user",
    metadata,
    sa.Column("subject", sa.String(255), primary_key=True),  # the ID token's `sub`
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("email", sa.String(255), index=True),
    sa.Column("roles", sa.String(200), nullable=False),
    _code("home_code", nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

dataset_info = sa.Table(
    "dataset_info",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


def fresh_metadata() -> sa.MetaData:
    """A copy of metadata to create or compare tables with.

    GeoAlchemy2 removes the spatial Index objects from the tables it creates on SpatiaLite: on the shared
    metadata, a PostGIS database created later in the same process would get no GiST indexes.
    """
    copy = sa.MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


def create_schema(engine: Engine) -> None:
    """Create every table (and spatial index) that is missing, with no schema revision (see queries.upgrade)."""
    fresh_metadata().create_all(engine)


@contextmanager
def indexes_built_after(conn: sa.Connection, tables: Iterable[sa.Table]) -> Iterator[None]:
    """Drop the tables' secondary (ix_) indexes for a bulk write and build them after it.

    Each index is then built once from sorted rows instead of taking millions of inserts at
    random places of its B-tree. DDL is transactional on both backends: a failure restores them.
    Only for bulk loads: on PostGIS a dropped index locks its table against readers until commit.
    """
    indexes = [index for table in tables for index in table.indexes if (index.name or "").startswith("ix_")]
    for index in indexes:
        index.drop(conn, checkfirst=True)
    yield
    for index in indexes:
        index.create(conn)
