"""Stable codes for levels, incident categories, sources, priorities and states, with zh/en labels."""

from __future__ import annotations

from typing import NamedTuple


class Term(NamedTuple):
    code: str
    zh: str
    en: str


LEVELS = ("city", "district", "street", "community", "grid")
LEVEL_LABELS = {
    "city": Term("city", "市", "City"),
    "district": Term("district", "区县(市)", "District"),
    "street": Term("street", "街道(镇)", "Street / town"),
    "community": Term("community", "社区(村)", "Community / village"),
    "grid": Term("grid", "网格", "Grid cell"),
}
# Length of the code at each level: 6-digit county code + 3 street + 3 community + 3 grid.
CODE_LENGTH = {"district": 6, "street": 9, "community": 12, "grid": 15}

CATEGORIES = (
    Term("city_appearance", "市容环境", "City appearance"),
    Term("street_order", "街面秩序", "Street order"),
    Term("construction", "施工管理", "Construction"),
    Term("illegal_advertising", "违规广告", "Illegal advertising"),
    Term("public_utilities", "公用设施", "Public utilities"),
    Term("roads_traffic", "道路交通", "Roads and traffic"),
    Term("greening", "园林绿化", "Greening"),
    Term("disputes", "矛盾纠纷", "Disputes"),
    Term("public_security", "社会治安", "Public security"),
    Term("fire", "消防安全", "Fire safety"),
    Term("public_health", "公共卫生", "Public health"),
    Term("environment", "生态环境", "Environment"),
    Term("hazardous_chemicals", "危化品", "Hazardous chemicals"),
    Term("flood_typhoon", "防汛防台", "Flood and typhoon"),
    Term("group_rental", "群租房", "Group rental housing"),
    Term("other", "其他", "Other"),
)
SOURCES = (
    Term("hotline_12345", "12345热线", "12345 hotline"),
    Term("grid_patrol", "网格员巡查", "Grid patrol"),
    Term("video_ai", "视频智能识别", "Video AI"),
    Term("iot_sensor", "物联感知", "IoT sensor"),
    Term("link_110", "110联动", "110 link"),
    Term("department", "部门移交", "Department referral"),
)
PRIORITIES = (
    Term("routine", "一般", "Routine"),
    Term("urgent", "紧急", "Urgent"),
    Term("critical", "特急", "Critical"),
)
# Disposal deadline by priority, hours from report (digital city management practice).
DUE_HOURS = {"routine": 48.0, "urgent": 8.0, "critical": 2.0}

STATUSES = (
    Term("reported", "受理", "Reported"),
    Term("dispatched", "立案派遣", "Dispatched"),
    Term("handling", "处理中", "Handling"),
    Term("resolved", "已处置待核查", "Resolved, awaiting verification"),
    Term("closed", "结案", "Closed"),
    Term("voided", "作废", "Voided"),
    Term("parked", "挂账", "Parked"),
    Term("escalated", "督查", "Escalated"),
)
# States in which the loop is not closed yet (Open311 "open").
OPEN_STATUSES = ("reported", "dispatched", "handling", "resolved", "parked", "escalated")
CLOSED_STATUSES = ("closed", "voided")
# Timestamp column recording when an incident entered each state.
STATUS_TIME_COLUMN = {s.code: f"{s.code}_at" for s in STATUSES}

# Lifecycle actions (the Open311 transitions extension) and, per current state, the state each
# allowed action leads to: the one table of allowed transitions. closed and voided are final.
ACTIONS = (
    Term("dispatch", "立案派遣", "Dispatch"),
    Term("handle", "开始处置", "Start handling"),
    Term("resolve", "处置完毕", "Resolve"),
    Term("close", "核查结案", "Verify and close"),
    Term("void", "作废", "Void"),
    Term("park", "挂账", "Park"),
    Term("escalate", "督查", "Escalate"),
    Term("reopen", "重新处置", "Reopen"),
)
TRANSITIONS = {
    "reported": {"dispatch": "dispatched", "void": "voided", "escalate": "escalated"},
    "dispatched": {"handle": "handling", "void": "voided", "escalate": "escalated"},
    "handling": {"resolve": "resolved", "park": "parked", "escalate": "escalated"},
    # verification failed: back to handling
    "resolved": {"close": "closed", "reopen": "handling", "escalate": "escalated"},
    "parked": {"reopen": "handling", "escalate": "escalated"},
    "escalated": {"dispatch": "dispatched", "handle": "handling", "resolve": "resolved"},
    "closed": {},
    "voided": {},
}
# Groups of categories as the Open311 service list shows them.
CATEGORY_GROUPS = {
    "城市管理 City management": ("city_appearance", "street_order", "construction",
                                 "illegal_advertising", "public_utilities", "roads_traffic", "greening"),
    "社会治理 Social governance": ("disputes", "public_security", "group_rental"),
    "安全应急 Safety and emergencies": ("fire", "public_health", "environment",
                                     "hazardous_chemicals", "flood_typhoon"),
    "其他 Other": ("other",),
}

CATEGORY_CODES = tuple(t.code for t in CATEGORIES)
SOURCE_CODES = tuple(t.code for t in SOURCES)
PRIORITY_CODES = tuple(t.code for t in PRIORITIES)
STATUS_CODES = tuple(t.code for t in STATUSES)
ACTION_CODES = tuple(t.code for t in ACTIONS)

ASSEMBLY_KINDS = (
    Term("square", "广场", "Square"),
    Term("park", "公园", "Park"),
    Term("green_space", "绿地", "Green space"),
    Term("stadium", "体育场馆", "Stadium"),
    Term("school", "学校", "School"),
    Term("air_defence", "人防工程", "Civil air defence shelter"),
    Term("evacuation_base", "避灾安置基地", "Evacuation base"),
)
FACILITY_STATUSES = (
    Term("open", "开放", "Open"),
    Term("closed", "关闭", "Closed"),
    Term("full", "已满", "Full"),
)
BED_TYPES = (
    Term("general", "普通床位", "General"),
    Term("icu", "重症监护(ICU)", "ICU"),
    Term("emergency", "急诊", "Emergency department"),
    Term("isolation", "负压隔离", "Negative-pressure isolation"),
)
BED_TYPE_CODES = tuple(t.code for t in BED_TYPES)


def label(terms: tuple[Term, ...], code: str, lang: str = "zh") -> str:
    """The label of a code in a vocabulary, or the code itself when unknown."""
    for term in terms:
        if term.code == code:
            return term.zh if lang == "zh" else term.en
    return code
