"""Texts and number formats of the exported files, in Chinese and English (UI labels: ui/i18n.py)."""

from __future__ import annotations

# Exports run outside Streamlit too (CLI, bench, tests), so they cannot read ui/i18n's
# query-param based language; the language is passed in explicitly.
LABELS: dict[str, tuple[str, str]] = {
    "briefing": ("简报", "briefing"),
    "briefing_title": ("城市运行态势简报", "City operations briefing"),
    "map_file": ("地图", "map"),
    "scope": ("范围", "Scope"),
    "window": ("时间范围", "Time window"),
    "filters": ("筛选条件", "Filters"),
    "no_filters": ("无", "none"),
    "as_of": ("数据截至", "Data as of"),
    "latest_incident": ("最新事件上报于", "latest incident reported"),
    "scenario": ("推演方案", "Scenario"),
    "baseline": ("基线(未叠加推演)", "baseline (no scenario)"),
    "exported_at": ("导出时间", "Exported"),
    "data_source": ("数据来源", "Data source"),
    "source_text": ("城运一张图 CityOps 数据库", "CityOps database"),
    "page": ("第{n}页", "page {n}"),
    "key_figures": ("关键指标", "Key figures"),
    "incidents": ("事件总数", "Incidents"),
    "open": ("未结案", "Open"),
    "overdue": ("超期未结", "Overdue"),
    "disposal_rate": ("结案率", "Disposal rate"),
    "on_time_rate": ("按期结案率", "On-time rate"),
    "median_hours": ("结案用时中位数(小时)", "Median hours to close"),
    "beds_available": ("可用床位", "Beds available"),
    "bed_occupancy": ("床位使用率", "Bed occupancy"),
    "assembly_capacity": ("避难场所开放容量(人)", "Open assembly capacity (people)"),
    "places_per_100": ("每百人避难容量", "Assembly places per 100 residents"),
    "items_below_min": ("低于储备下限物资(条)", "Supply lines below minimum"),
    "map_title": ("{scope}各{level}事件分布", "Incidents by {level}, {scope}"),
    "legend_incidents": ("事件数", "Incidents"),
    "north": ("北", "N"),
    "by_category": ("事件类别", "Incidents by category"),
    "by_source": ("事件来源", "Incidents by source"),
    "by_status": ("处置状态", "Incidents by status"),
    "hourly_trend": ("逐小时事件趋势", "Incidents per hour"),
    "closed_loop": ("下级区域结案率", "Disposal rate by child area"),
    "closed_loop_worst": ("结案率最低的{n}个下级区域", "{n} child areas with the lowest disposal rate"),
    "beds_by_type": ("医院床位(按类型)", "Hospital beds by type"),
    "occupied": ("占用", "Occupied"),
    "available": ("可用", "Available"),
    "stock_vs_min": ("物资库存/储备下限", "Stock as % of minimum"),
    "pct_of_min": ("占下限比例(%)", "% of minimum"),
    "incident_charts": ("事件态势", "Incidents"),
    "incident_charts_1": ("事件态势：类别与来源", "Incidents: categories and sources"),
    "incident_charts_2": ("事件态势：状态与闭环处置", "Incidents: status and closed loop"),
    "stock_colours": (
        "红色：合计低于下限；橙色：部分储备库低于下限",
        "red: total below minimum; amber: some depots below minimum",
    ),
    "resources": ("应急资源", "Emergency resources"),
    "hotspots": ("事件高发区域(前{n})", "Top {n} hotspots"),
    "rank": ("排名", "Rank"),
    "name": ("名称", "Name"),
    "per_10k": ("每万人事件", "Per 10,000 residents"),
    "population": ("常住人口", "Population"),
    "hospitals": ("医院", "Hospitals"),
    "beds_total": ("床位总数", "Beds"),
    "bed_type": ("床位类型", "Bed type"),
    "total": ("总数", "Total"),
    "occupancy": ("使用率", "Occupancy"),
    "assembly_points": ("避难场所", "Assembly points"),
    "kind": ("类型", "Kind"),
    "points": ("数量", "Points"),
    "capacity": ("容量(人)", "Capacity"),
    "open_capacity": ("开放容量(人)", "Open capacity"),
    "supplies_below_min": ("低于储备下限的物资", "Supplies below minimum"),
    "depot": ("储备库", "Depot"),
    "item": ("物资", "Item"),
    "quantity": ("库存", "Quantity"),
    "min_level": ("储备下限", "Minimum"),
    "none_below_min": ("所有物资均不低于储备下限", "No supply is below its minimum"),
    "no_depots": ("本范围内无物资储备库", "No supply depot in this scope"),
    "no_incidents": ("时段内无事件", "No incidents in the window"),
    "residents": ("常住人口", "Residents"),
    "code": ("编码", "Code"),
    "resource_details": ("资源明细", "Resource details"),
    "more_rows": ("另有{n}条未列出，详见数据导出", "{n} more not shown; see the data export"),
    "summary_beds": (
        "医院{hospitals}家，床位{total}张，可用{available}张，使用率{occupancy}；"
        "ICU可用{icu}张；可转换应急床位{convertible}张",
        "{hospitals} hospitals, {total} beds, {available} available, occupancy {occupancy}; "
        "{icu} ICU beds available; {convertible} emergency-convertible beds",
    ),
    "summary_assembly": (
        "避难场所{points}处(开放{open}处)，开放容量{capacity}人，每百人{per100}个",
        "{points} assembly points ({open} open), open capacity {capacity}, {per100} places per 100 residents",
    ),
    "summary_stock": ("储备物资{lines}条，低于储备下限{below}条", "{lines} stock lines, {below} below minimum"),
    "no_children": ("本范围无下级区域", "This scope has no child areas"),
    "page_of": ("第{n}页", "Page {n}"),
    "category": ("类别", "Category"),
    "source": ("来源", "Source"),
    "status": ("状态", "Status"),
    "hour_start": ("时段开始", "Hour starting"),
    "closed": ("已结案", "Closed"),
    "voided": ("作废", "Voided"),
}

WINDOW_NAMES = {
    "today": ("今日", "today"),
    "24h": ("近24小时", "last 24 hours"),
    "7d": ("近7天", "last 7 days"),
    "30d": ("近30天", "last 30 days"),
}


def text(key: str, lang: str = "zh", **values) -> str:
    """The export text for a key in a language, with {placeholders} filled in."""
    pair = LABELS.get(key)
    if pair is None:
        return key
    return (pair[1] if lang == "en" else pair[0]).format(**values)


