"""featmesh: governance for ML feature stores in a data mesh."""

__version__ = "0.1.0"
