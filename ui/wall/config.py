"""The wall's configuration: settings, overridden by the URL; the rotation's clock."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from codes import is_area_code
from settings import Settings

PROFILES = ("picker", "window")
MIN_ROTATION = 5  # seconds: the settings' own floor, also applied to ?rotate=
DEFAULT_VIEWPORT = (1920, 1080)  # the screen a wall is taken to be until its browser says


@dataclass(frozen=True)
class WallConfig:
    playlist: tuple[str, ...]
    rotation_seconds: int
    refresh_seconds: int
    pinned: str | None = None  # a scope in the URL stops the rotation on it
    profiles: frozenset[str] = field(default_factory=frozenset)

    @property
    def period(self) -> float:
        """Fragment period: at most the live refresh, and a whole fraction of the rotation."""
        if self.pinned or len(self.playlist) < 2:
            return float(self.refresh_seconds)
        return self.rotation_seconds / math.ceil(self.rotation_seconds / self.refresh_seconds)

    def scope_at(self, epoch_seconds: float) -> tuple[str, int]:
        """The scope on screen at a moment and its playlist position (clock-based: walls agree)."""
        if self.pinned:
            return self.pinned, -1
        index = int(epoch_seconds // self.rotation_seconds) % len(self.playlist)
        return self.playlist[index], index


def _codes(raw: str | None) -> tuple[str, ...]:
    codes = tuple(c.strip() for c in (raw or "").split(",") if c.strip())
    return tuple(c for c in codes if is_area_code(c))


def wall_config(params: Mapping[str, str], settings: Settings) -> WallConfig:
    """The wall's configuration: settings, overridden by ?rotate=, ?playlist=, ?scope=, ?profile=."""
    playlist = _codes(params.get("playlist")) or _codes(settings.wall_playlist) or (settings.city_code,)
    rotate = params.get("rotate", "")
    rotation = max(MIN_ROTATION, int(rotate)) if rotate.isdigit() else settings.wall_rotation_seconds
    pinned = _codes(params.get("scope"))
    profiles = frozenset(p for p in (params.get("profile") or "").split(",") if p in PROFILES)
    return WallConfig(playlist, rotation, settings.live_refresh_seconds, pinned[0] if pinned else None,
                      profiles)
