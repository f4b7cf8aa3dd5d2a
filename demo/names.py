"""Deterministic synthetic Chinese place names (no real street or community is implied)."""

from __future__ import annotations

import numpy as np

_FIRST = list("东西南北中新和平安康福寿兴华明德仁义礼智信文武春秋云海湖山河江溪桥塘浦港庄园林")
_SECOND = list("兴盛丰泰宁源祥瑞光辉阳昌隆达鸿嘉惠荣乐顺茂景秀清涟湾岭峰湖桥塘")


def unique_names(count: int, suffix: str, rng: np.random.Generator, taken: set[str]) -> list[str]:
    """`count` two-character names + suffix, unique within `taken` (which is extended)."""
    names: list[str] = []
    while len(names) < count:
        name = rng.choice(_FIRST) + rng.choice(_SECOND) + suffix
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names
