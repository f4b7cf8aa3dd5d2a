"""Synthetic assembly points, supply depots with stock, and hospitals with beds by type."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.sampling import points_in_polygons
from vocab import counts_things, unit_digits

SOURCE_NOTE = "合成演示数据 synthetic demo"

# kind: (share, smallest, largest capacity in people)
ASSEMBLY_MIX = {
    "square": (0.22, 800, 6000),
    "park": (0.18, 1000, 8000),
    "green_space": (0.15, 500, 3000),
    "stadium": (0.04, 3000, 20000),
    "school": (0.30, 600, 3000),
    "air_defence": (0.08, 300, 2000),
    "evacuation_base": (0.03, 2000, 10000),
}
KIND_NAME = {
    "square": "广场",
    "park": "公园",
    "green_space": "绿地",
    "stadium": "体育中心",
    "school": "学校",
    "air_defence": "人防工程",
    "evacuation_base": "避灾安置点",
}
ASSEMBLY_SOURCE = "区应急管理局"

# (item, GB/T 38565 class, unit, stock per 1,000 residents, daily need per 1,000 residents)
SUPPLY_ITEMS = (
    ("帐篷", "临时食宿类", "顶", 2.0, 0.15),
    ("折叠床", "临时食宿类", "张", 6.0, 0.4),
    ("棉被", "临时食宿类", "床", 10.0, 0.5),
    ("饮用水", "生命支持类", "箱", 40.0, 6.0),
    ("方便食品", "生命支持类", "箱", 30.0, 5.0),
    ("医用口罩", "防护用品类", "千只", 2.0, 0.3),
    ("防护服", "防护用品类", "套", 8.0, 1.0),
    ("救生衣", "生命救助类", "件", 4.0, 0.2),
    ("冲锋舟", "救援运载类", "艘", 0.02, 0.001),
    ("发电机", "动力燃料类", "台", 0.05, 0.004),
    ("沙袋", "工程材料类", "千条", 0.6, 0.08),
    ("抽水泵", "工程设备类", "台", 0.08, 0.006),
    ("应急照明灯", "照明设备类", "台", 0.5, 0.03),
    ("卫星电话", "通讯广播类", "部", 0.01, 0.0005),
    ("消毒液", "污染清理类", "吨", 0.3, 0.05),
)

# grade: (number of hospitals, fewest, most beds)
HOSPITAL_GRADES = {
    "三级甲等": (12, 1200, 2400),
    "三级乙等": (12, 600, 1000),
    "二级甲等": (36, 250, 450),
    "二级乙等": (24, 100, 200),
    "一级": (35, 40, 80),
}
BED_SHARE = {"general": 0.88, "icu": 0.03, "emergency": 0.06, "isolation": 0.03}
BED_OCCUPANCY = {"general": (0.70, 0.92), "icu": (0.78, 0.96), "emergency": (0.5, 0.9), "isolation": (0.2, 0.6)}


def _pick_grids(grids: gpd.GeoDataFrame, count: int, rng, power: float = 1.0) -> pd.DataFrame:
    """Grid rows drawn with probability proportional to population**power (with their codes)."""
    weight = grids["population"].to_numpy(float) ** power
    picked = rng.choice(len(grids), size=count, p=weight / weight.sum())
    chosen = grids.iloc[picked].reset_index(drop=True)
    lon, lat = points_in_polygons(grids.geometry.values, picked, rng)
    return chosen.assign(lon=lon, lat=lat)


def _located(chosen: pd.DataFrame) -> dict:
    return {
        "lon": chosen["lon"],
        "lat": chosen["lat"],
        "grid_code": chosen["code"],
        "community_code": chosen["community_code"],
        "street_code": chosen["street_code"],
        "district_code": chosen["district_code"],
    }


def _last_updated(now: datetime, count: int, rng, stale_share: float = 0.05) -> list[datetime]:
    """Mostly updated within the last day; a few stale rows so staleness shows on screen."""
    hours = rng.uniform(0.1, 20, count)
    stale = rng.random(count) < stale_share
    hours[stale] = rng.uniform(30, 240, stale.sum())
    return [now - timedelta(hours=float(h)) for h in hours]


def build_assembly_points(grids: gpd.GeoDataFrame, community_names: dict, now, rng, count=1500):
    kinds = list(ASSEMBLY_MIX)
    share = np.array([ASSEMBLY_MIX[k][0] for k in kinds])
    kind = rng.choice(kinds, size=count, p=share / share.sum())
    low = np.array([ASSEMBLY_MIX[k][1] for k in kind])
    high = np.array([ASSEMBLY_MIX[k][2] for k in kind])
    capacity = np.round(rng.uniform(low, high) / 50) * 50
    status = rng.choice(["open", "closed", "full"], size=count, p=[0.95, 0.03, 0.02])
    chosen = _pick_grids(grids, count, rng)
    names = [
        f"{community_names[c]}{KIND_NAME[k]}{i % 97 + 1}号"
        for i, (c, k) in enumerate(zip(chosen["community_code"], kind, strict=True))
    ]
    return pd.DataFrame(
        {
            "code": [f"AP{i + 1:05d}" for i in range(count)],
            "name": names,
            "kind": kind,
            "capacity": capacity.astype(int),
            "occupancy": np.where(status == "full", capacity, 0).astype(int),
            "status": status,
            **_located(chosen),
            "last_updated": _last_updated(now, count, rng),
            "source": f"{ASSEMBLY_SOURCE} ({SOURCE_NOTE})",
            "synthetic": True,
        }
    )


def build_depots(grids, districts: pd.DataFrame, now, rng, per_district=(3, 5)):
    """One city reserve plus a few depots per district, each with the full item list."""
    counts = rng.integers(per_district[0], per_district[1] + 1, size=len(districts))
    rows, stock_rows = [], []
    depot_no = 0
    for (code, name, people), count in zip(
        districts[["code", "name", "population"]].itertuples(index=False), counts, strict=True
    ):
        local = grids[grids["district_code"] == code]
        chosen = _pick_grids(local, int(count) + (depot_no == 0), rng)
        for i in range(len(chosen)):
            depot_no += 1
            city_reserve = depot_no == 1
            depot_name = "宁波市应急物资储备库" if city_reserve else f"{name}应急物资储备点{i + 1}"
            depot_code = f"DEP{depot_no:03d}"
            served = people / count * (3 if city_reserve else 1)
            rows.append({"code": depot_code, "name": depot_name, **{k: v.iloc[i] for k, v in _located(chosen).items()}})
            stock_rows += _stock_rows(depot_code, served, now, rng)
    depots = pd.DataFrame(rows)
    depots["last_updated"] = _last_updated(now, len(depots), rng)
    depots["source"] = f"市应急管理局物资储备系统 ({SOURCE_NOTE})"
    depots["synthetic"] = True
    return depots, pd.DataFrame(stock_rows)


def _in_unit(amount: float, unit: str) -> float:
    """An amount as a depot books it: whole things for a counted unit, tenths of a measured one."""
    return float(round(amount, unit_digits(unit)))


def _stock_rows(depot_code: str, served: float, now, rng) -> list[dict]:
    rows = []
    for item, category, unit, per_1000, need in SUPPLY_ITEMS:
        # a depot holds at least one of a counted item (a reserve of 0.4 boats is none)
        minimum = max(_in_unit(per_1000 * served / 1000, unit), 1.0 if counts_things(unit) else 0.1)
        # about one item in twelve has been drawn down below its reserve minimum
        level = rng.uniform(0.4, 0.95) if rng.random() < 0.08 else rng.uniform(1.05, 2.2)
        rows.append(
            {
                "depot_code": depot_code,
                "item": item,
                "category": category,
                "quantity": _in_unit(minimum * level, unit),
                "unit": unit,
                "min_level": minimum,
                "daily_need_per_1000": need,
                "last_updated": now - timedelta(hours=float(rng.uniform(0.5, 30))),
            }
        )
    return rows


def build_hospitals(grids: gpd.GeoDataFrame, now, rng):
    """Hospitals by grade in populous grids, plus the 500-bed public-health clinical centre."""
    rows: list[dict[str, Any]] = []
    beds: list[dict[str, Any]] = []
    for grade, (count, low, high) in HOSPITAL_GRADES.items():
        chosen = _pick_grids(grids, count, rng, power=2.0)
        for i in range(count):
            total = int(rng.integers(low, high + 1))
            rows.append(_hospital_row(len(rows) + 1, grade, chosen, i, total, rng))
            beds += _bed_rows(rows[-1]["code"], total, rng)
    chosen = _pick_grids(grids, 1, rng, power=2.0)
    centre = _hospital_row(len(rows) + 1, "三级甲等", chosen, 0, 500, rng)
    centre["name"], centre["fever_clinic"] = "宁波市公共卫生临床中心", True
    rows.append(centre)
    beds += _bed_rows(centre["code"], 500, rng, isolation_share=0.4)
    hospitals = pd.DataFrame(rows)
    hospitals["last_updated"] = _last_updated(now, len(hospitals), rng)
    hospitals["source"] = f"市卫生健康委床位上报 ({SOURCE_NOTE})"
    hospitals["synthetic"] = True
    return hospitals, pd.DataFrame(beds)


def _hospital_row(number: int, grade: str, chosen: pd.DataFrame, i: int, total: int, rng) -> dict:
    located = {k: v.iloc[i] for k, v in _located(chosen).items()}
    place = chosen["name"].iloc[i].split("第")[0][:2]
    kind = "人民医院" if grade.startswith("三") else "中心医院" if grade.startswith("二") else "卫生院"
    return {
        "code": f"H{number:04d}",
        "name": f"{place}{kind}{number}",
        "grade": grade,
        "fever_clinic": bool(grade.startswith(("三", "二甲")) or rng.random() < 0.3),
        "convertible_beds": int(total * rng.uniform(0.05, 0.15)),
        **located,
    }


def _bed_rows(code: str, total: int, rng, isolation_share: float | None = None) -> list[dict]:
    share = dict(BED_SHARE)
    if isolation_share is not None:
        share = {"general": 0.5, "icu": 0.05, "emergency": 0.05, "isolation": isolation_share}
    rows = []
    for bed_type, part in share.items():
        count = max(1, int(round(total * part)))
        low, high = BED_OCCUPANCY[bed_type]
        rows.append(
            {
                "hospital_code": code,
                "bed_type": bed_type,
                "total": count,
                "occupied": int(count * rng.uniform(low, high)),
            }
        )
    return rows
