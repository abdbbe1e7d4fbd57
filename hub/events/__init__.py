"""Events: what domain code publishes (``HubEvent``), the bus that carries them between
hub processes, and the unit of work that publishes them only after its commit."""
