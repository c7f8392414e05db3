"""A deliberately misbehaving plugin for the isolation tests: each behaviour is behind a switch."""
