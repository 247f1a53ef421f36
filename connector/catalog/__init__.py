"""Catalogs featmesh publishes to."""
