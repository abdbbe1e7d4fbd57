"""People: the users and teams who work the inbox, and their administration."""
