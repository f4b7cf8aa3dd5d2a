"""Users (用户管理): the admin's list of the users the app lets in, with add, roles and disable."""

from __future__ import annotations

from ui.frame import current_view
from ui.session import admitted_viewer
from ui.user_admin import add_form, change_form, users_table

current_view()  # inside app.py's frame
viewer = admitted_viewer()
accounts = users_table()
change_form(viewer, accounts)
add_form(viewer)
