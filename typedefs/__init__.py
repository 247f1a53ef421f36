"""featmesh's Atlas / Purview type system, and a validator for typedef documents."""
