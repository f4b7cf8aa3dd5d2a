"""Pydantic models of the Open311 GeoReport v2 bodies (with the command centre's extensions)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vocab import ACTION_CODES, CATEGORY_CODES, PRIORITY_CODES, SOURCE_CODES

# Values of crs the intake documents (geo.crs.crs_code also reads e.g. 'GCJ-02', 'EPSG:4326').
INTAKE_CRS = ("wgs84", "gcj02", "bd09", "cgcs2000")

# What to tell a client about each field when it is missing or malformed.
FIELD_HINTS = {
    "service_code": "send one of the service_code values of GET /open311/v2/services.json",
    "lat": "send lat and long as decimal degrees, e.g. lat=29.87&long=121.55, in WGS84 or in the system crs "
    "names (an address_string alone cannot be placed: there is no geocoder)",
    "long": "send lat and long as decimal degrees, e.g. lat=29.87&long=121.55, in WGS84 or in the system crs "
    "names (an address_string alone cannot be placed: there is no geocoder)",
    "crs": "send crs as one of wgs84 (the default), gcj02 (AMap, Tencent), bd09 (Baidu)",
    "source": f"use one of {', '.join(SOURCE_CODES)} (default hotline_12345)",
    "priority": f"use one of {', '.join(PRIORITY_CODES)} (default routine)",
    "action": f"use one of {', '.join(ACTION_CODES)}",
}


class Service(BaseModel):
    """One incident category as an Open311 service."""

    service_code: str = Field(examples=["city_appearance"])
    service_name: str = Field(examples=["市容环境"])
    description: str
    metadata: bool = False
    type: Literal["realtime", "batch", "blackbox"] = "realtime"
    keywords: str
    group: str


class _Body(BaseModel):
    """A request body: unknown fields ignored, text trimmed, no NUL characters (PostgreSQL refuses them), no
    U+FFFD (a replacement character: the text was garbled by a wrong decoding before it reached us)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value):
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("contains a NUL character (\\u0000); remove it")
        if isinstance(value, str) and "\ufffd" in value:
            raise ValueError(
                "contains U+FFFD, the mark of text decoded with the wrong charset: send the original text in UTF-8"
            )
        return value


class ServiceRequestIn(_Body):
    """A new service request (POST body, JSON or form-encoded). Unknown fields are ignored."""

    # Codes are checked by the service (with a message listing them); the enums document them.
    service_code: str = Field(
        description="A service_code of services.json.",
        examples=["greening"],
        json_schema_extra={"enum": list(CATEGORY_CODES)},
    )
    lat: float = Field(
        allow_inf_nan=False, description="Latitude (WGS84 unless crs says otherwise).", examples=[29.8683]
    )
    long: float = Field(
        allow_inf_nan=False, description="Longitude (WGS84 unless crs says otherwise).", examples=[121.544]
    )
    crs: str = Field(
        "wgs84",
        max_length=16,
        description="Extension: the coordinate system of lat and long: wgs84 (GPS; cgcs2000 is taken as the same), "
        "gcj02 (AMap, Tencent and most Chinese map apps), bd09 (Baidu); case, '-' and '_' do not matter (GCJ-02). "
        "Converted to WGS84 before it is stored; any other value is a 400.",
        json_schema_extra={"enum": list(INTAKE_CRS)},
    )
    address_string: str | None = Field(
        None, max_length=200, description="Address, as well as lat and long (there is no geocoder)."
    )
    description: str | None = Field(None, max_length=500)
    first_name: str | None = Field(None, max_length=30, description="Kept apart, never shown unmasked.")
    last_name: str | None = Field(None, max_length=30, description="Kept apart, never shown unmasked.")
    phone: str | None = Field(None, max_length=32, description="Kept apart, never shown unmasked.")
    email: str | None = Field(None, max_length=128, description="Kept apart, never shown unmasked.")
    source: str = Field(
        "hotline_12345", description="Extension: reporting channel.", json_schema_extra={"enum": list(SOURCE_CODES)}
    )
    priority: str = Field(
        "routine", description="Extension: sets the due time.", json_schema_extra={"enum": list(PRIORITY_CODES)}
    )
    external_id: str | None = Field(
        None, min_length=1, max_length=64, description="Extension: the caller's own id; a repeat creates nothing."
    )
    jurisdiction_id: str | None = Field(None, max_length=64, description="Accepted and ignored (one city).")


class RequestCreated(BaseModel):
    """The answer to a POST: the id of the (new or earlier) request."""

    service_request_id: str
    service_notice: str | None = None
    account_id: str | None = None


class ServiceRequestOut(BaseModel):
    """A service request as Open311 shows it; state, source, priority and codes are extensions."""

    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str = Field(description="The fine lifecycle state in Chinese and its code.")
    service_name: str
    service_code: str
    description: str | None = None
    agency_responsible: str | None = None
    service_notice: str | None = None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str = Field(description="The due time set by the priority.")
    address: str | None = None
    address_id: str | None = None
    zipcode: str | None = None
    lat: float
    long: float
    media_url: str | None = None
    external_id: str
    state: str = Field(description="Extension: fine lifecycle state code.")
    source: str
    priority: str
    grid_code: str
    community_code: str
    street_code: str
    district_code: str


class TransitionIn(_Body):
    """A lifecycle step (extension): the action to take and an optional note."""

    action: Literal[ACTION_CODES]  # type: ignore[valid-type]
    note: str | None = Field(None, max_length=500)


class Error(BaseModel):
    """An Open311 error: the HTTP status code and what to fix."""

    code: int
    description: str
    allowed_actions: list[str] | None = Field(None, description="On 409: the actions allowed next.")
