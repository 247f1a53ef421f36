"""Built-in checks. Every top-level :class:`policies.registry.Check` in a module here
is registered; there is no list to keep."""
