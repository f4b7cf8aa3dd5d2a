"""The one dictionary of UI labels: Chinese by default, English on request (?lang=en)."""

from __future__ import annotations

import streamlit as st

import vocab

LABELS: dict[str, tuple[str, str]] = {
    "app_title": ("城运一张图", "CityOps"),
    "overview": ("总览", "Overview"),
    "incidents": ("事件", "Incidents"),
    "resources": ("应急资源", "Resources"),
    "scenarios": ("推演", "Scenarios"),
    "briefing": ("简报", "Briefing"),
    "wall": ("大屏", "Wall"),
    "scope": ("范围", "Scope"),
    "window": ("时间范围", "Time window"),
    "today": ("今日", "Today"),
    "24h": ("近24小时", "Last 24 hours"),
    "7d": ("近7天", "Last 7 days"),
    "30d": ("近30天", "Last 30 days"),
    "language": ("语言", "Language"),
    "layers": ("图层", "Layers"),
    "layer_grids": ("网格边界", "Grid boundaries"),
    "layer_assembly": ("应急避难场所", "Assembly points"),
    "layer_depots": ("物资储备库", "Supply depots"),
    "layer_hospitals": ("医院", "Hospitals"),
    "layer_recent": ("最新事件", "Recent incidents"),
    "filters": ("筛选", "Filters"),
    "category": ("类别", "Category"),
    "source": ("来源", "Source"),
    "status": ("状态", "Status"),
    "priority": ("等级", "Priority"),
    "incidents_today": ("今日事件", "Incidents today"),
    "incidents_window": ("时段事件", "Incidents in window"),
    "open": ("未结案", "Open"),
    "overdue": ("超期", "Overdue"),
    "disposal_rate": ("结案率", "Disposal rate"),
    "on_time_rate": ("按期结案率", "On-time rate"),
    "median_hours": ("结案用时中位数(小时)", "Median hours to close"),
    "beds_available": ("可用床位", "Beds available"),
    "bed_occupancy": ("床位使用率", "Bed occupancy"),
    "assembly_per_100": ("每百人避难容量", "Assembly places per 100 residents"),
    "items_below_min": ("低于储备下限物资", "Supply items below minimum"),
    "busiest_children": ("事件最多的下级区域", "Busiest child areas"),
    "map": ("地图", "Map"),
    "legend_incidents": ("事件数", "Incidents"),
    "click_to_drill": ("点击地图区域可逐级下钻", "Click an area on the map to drill down"),
    "name": ("名称", "Name"),
    "code": ("编码", "Code"),
    "population": ("常住人口", "Population"),
    "per_10k": ("每万人事件", "Per 10,000 residents"),
    "hourly_trend": ("逐小时趋势", "Hourly trend"),
    "by_category": ("按类别", "By category"),
    "by_source": ("按来源", "By source"),
    "by_status": ("按状态", "By status"),
    "closed_loop": ("闭环处置(下级区域)", "Closed loop by child area"),
    "latest": ("最新事件(个人信息已脱敏)", "Latest incidents (personal data masked)"),
    "reported_at": ("上报时间", "Reported"),
    "due_at": ("处置时限", "Due"),
    "reporter": ("上报人", "Reporter"),
    "phone": ("电话", "Phone"),
    "capacity": ("容量(人)", "Capacity (people)"),
    "kind": ("类型", "Kind"),
    "residents": ("常住人口", "Residents"),
    "places_per_100": ("每百人容量", "Places per 100 residents"),
    "beds": ("床位", "Beds"),
    "total": ("总数", "Total"),
    "occupied": ("占用", "Occupied"),
    "available": ("可用", "Available"),
    "occupancy": ("使用率", "Occupancy"),
    "convertible": ("可转换应急床位", "Emergency-convertible"),
    "icu": ("ICU", "ICU"),
    "stock": ("物资库存", "Stock"),
    "item": ("物资", "Item"),
    "quantity": ("库存", "Quantity"),
    "min_level": ("储备下限", "Minimum"),
    "days_of_supply": ("可保障天数", "Days of supply"),
    "below_min": ("低于下限", "Below minimum"),
    "last_updated": ("更新时间", "Last updated"),
    "stale": ("数据过期", "Stale"),
    "fresh": ("最新", "Current"),
    "data_source": ("数据来源", "Source"),
    "updated_at": ("更新于", "Updated"),
    "stale_since": ("数据暂停更新，自", "Stale since"),
    "no_data": ("暂无数据", "No data"),
    "bad_url": ("链接参数有误，已显示全市视图：", "The link had a problem; showing the city view: "),
    "assembly_points": ("应急避难场所", "Assembly points"),
    "hospitals": ("医院床位", "Hospital beds"),
    "depots": ("物资储备", "Supply depots"),
    "synthetic_note": ("演示数据：区县边界为真实数据，其余为合成数据",
                       "Demo data: real district boundaries, everything else synthetic"),
}

VOCABULARIES = {
    "category": vocab.CATEGORIES,
    "source": vocab.SOURCES,
    "status": vocab.STATUSES,
    "priority": vocab.PRIORITIES,
    "kind": vocab.ASSEMBLY_KINDS,
    "facility_status": vocab.FACILITY_STATUSES,
    "bed_type": vocab.BED_TYPES,
    "level": tuple(vocab.LEVEL_LABELS.values()),
}


def current_language() -> str:
    return "en" if st.query_params.get("lang") == "en" else "zh"


def t(key: str) -> str:
    """The label for a key in the current language (the key itself if unknown)."""
    pair = LABELS.get(key)
    if pair is None:
        return key
    return pair[1] if current_language() == "en" else pair[0]


def term(vocabulary: str, code: str) -> str:
    """The label of a vocabulary code (category, source, status, ...) in the current language."""
    return vocab.label(VOCABULARIES[vocabulary], code, current_language())
