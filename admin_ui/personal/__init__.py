"""Personal pages (``/me/...``): your profile, password, API tokens and macros, open to
every role.

They are outside the admin section on purpose: agents reach them too. Their routes are
the root's (``admin_ui/route_tables/root.routes``; ``admin_ui.route_source`` lists the
areas).
"""
