"""The scan path, one stage a module, each plain data in and out.

``read`` sources -> stores (domains resolved, references checked); ``increment`` decides
which feature sets an incremental scan skips; ``profile`` profiles their source data;
``evaluate`` runs the policy packs and builds what a run records of them; ``publish``
plans the mapped entities against a catalog and applies them; ``run`` strings the
stages together for ``featmesh scan``. ``featmesh check`` uses ``read``, ``profile`` and
``evaluate`` and never ``publish``.
"""
