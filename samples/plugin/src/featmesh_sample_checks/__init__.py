"""Sample featmesh checks, registered through the ``featmesh.checks`` entry point."""
