"""Users, roles, passwords, sessions, API tokens, CSRF and login throttling."""
