"""``hub plugin new``: scaffold a plugin distribution that installs and passes its tests."""
