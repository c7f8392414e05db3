"""The toy teacher, registered as a plugin: for tests and smoke recipes, not a built-in of every install."""
