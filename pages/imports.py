"""Data import (数据导入): figures departments send as spreadsheets, checked whole, then applied whole."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from errors import InvalidInput
from ui import bed_import
from ui.frame import page_frame
from ui.i18n import t
from ui.widgets import table

DONE_KEY = "import.beds.done"  # the message of the last import, shown once after its rerun
UPLOADS_KEY = "import.beds.uploads"  # imports so far: a new uploader after each, empty again


def _beds_section() -> None:
    st.subheader(t("import_beds"))
    st.caption(t("import_beds_help"))
    if DONE_KEY in st.session_state:
        st.success(st.session_state.pop(DONE_KEY))
    st.download_button(t("import_template"), bed_import.template_csv(), file_name="医院床位.csv", mime="text/csv",
                       icon=":material/download:", key="import-beds-template")
    left, right = st.columns([2, 1])
    upload = left.file_uploader(t("import_file"), type=["csv", "xlsx"],
                                key=f"import-beds-file-{st.session_state.get(UPLOADS_KEY, 0)}")
    source = right.text_input(t("import_source"), value="卫健委", key="import-beds-source")
    if upload is None:
        return
    try:
        sheet = bed_import.check(upload.getvalue(), upload.name)
    except InvalidInput as exc:
        st.error(str(exc))
        return
    if not sheet.ok:
        st.error(t("import_problems").format(n=len(sheet.problems)))
        table(st, pd.DataFrame({t("import_line"): [p.line for p in sheet.problems],
                                t("import_problem"): [p.text for p in sheet.problems]}))
        return
    st.info(t("import_ready").format(rows=len(sheet.rows), hospitals=sheet.rows["hospital_code"].nunique()))
    table(st, bed_import.before_and_after(sheet), height=min(420, 40 + 35 * len(sheet.rows)))
    if st.button(t("import_apply"), type="primary", icon=":material/upload:", key="import-beds-apply"):
        st.session_state[DONE_KEY] = bed_import.apply(sheet, source)
        st.session_state[UPLOADS_KEY] = st.session_state.get(UPLOADS_KEY, 0) + 1
        st.rerun()


with page_frame("imports", sidebar=False, scoped=False):
    _beds_section()
