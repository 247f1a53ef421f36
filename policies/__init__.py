"""featmesh policy engine: policy packs, checks, scores and waivers."""
