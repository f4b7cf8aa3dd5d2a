"""Data import (数据导入): figures departments send as spreadsheets, checked whole, then applied whole."""

from __future__ import annotations

import streamlit as st

from errors import InvalidInput
from ui import sheet_import
from ui.frame import current_view
from ui.i18n import say, t
from ui.sheet_import import SheetKind
from ui.widgets import file_uploader, plain, table

PROBLEMS_HEIGHT = 420  # px: a long list scrolls inside its box


def _section(kind: SheetKind) -> None:
    done, uploads = f"import.{kind.key}.done", f"import.{kind.key}.uploads"
    st.caption(t(f"import_{kind.key}_help"))
    if done in st.session_state:  # the message of the last import, shown once after its rerun
        st.success(st.session_state.pop(done))
    st.download_button(t("import_template"), sheet_import.template_csv(kind),
                       file_name=sheet_import.template_name(kind), mime="text/csv", icon=":material/download:",
                       key=f"import-{kind.key}-template")
    left, right = st.columns([2, 1])
    # a new uploader after each import: it starts empty again
    upload = file_uploader(left, t("import_file"), types=["csv", "xlsx"], max_mb=sheet_import.MAX_MB,
                           key=f"import-{kind.key}-file-{st.session_state.get(uploads, 0)}")
    source = right.text_input(t("import_source"), value=t(f"import_{kind.key}_source"), key=f"import-{kind.key}-source")
    if upload is None:
        return
    try:
        sheet = sheet_import.check(kind, upload.getvalue(), upload.name)
    except InvalidInput as exc:
        st.error(plain(say(exc.message)))
        return
    if not sheet.ok:
        st.error(t("import_problems", n=len(sheet.problems)))
        # plain text lines, not a table: a long problem wraps instead of being cut off, cells quoted as they are
        with st.container(border=True, height=PROBLEMS_HEIGHT if len(sheet.problems) > 12 else "content",
                          key=f"import-{kind.key}-problems"):
            st.text("\n".join(sheet_import.problem_lines(sheet)))
        return
    preview = sheet_import.before_and_after(kind, sheet)
    st.info(t("import_ready_changes", rows=len(sheet.rows), owners=sheet.rows[kind.owner].nunique(),
              changed=preview.changed, same=preview.same))
    table(st, preview.table, cell_css=preview.cell_css(), height=min(420, 40 + 35 * len(sheet.rows)))
    st.caption(t("import_stamp_rule"))
    confirm = preview.same > 0 and st.checkbox(t("import_confirm_unchanged", same=preview.same),
                                               key=f"import-{kind.key}-confirm")
    if st.button(t("import_apply"), type="primary", icon=":material/upload:", key=f"import-{kind.key}-apply",
                 disabled=not (preview.changed or confirm)):
        st.session_state[done] = sheet_import.apply(kind, sheet, source, confirm_unchanged=confirm)
        st.session_state[uploads] = st.session_state.get(uploads, 0) + 1
        st.rerun()


current_view()  # drawn inside app.py's frame
for tab, kind in zip(st.tabs([t(f"import_{kind.key}") for kind in sheet_import.KINDS]), sheet_import.KINDS,
                     strict=True):
    with tab:
        _section(kind)
