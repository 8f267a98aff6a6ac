"""The hash maps: chaining, Robin Hood and adaptive, behind one ``MutableMapping`` API.

Owns the map classes (:mod:`.base`, :mod:`.chaining`, :mod:`.robinhood`, :mod:`.adaptive`),
their hashing (:mod:`.hashing`) and crafted colliding keys (:mod:`.adversarial`), the
batch replay kernels (:mod:`.batch`, :mod:`.kernels`), histogram helpers (:mod:`.stats`),
the map options (the pydantic-free fast path :mod:`.options` and the reference models
:mod:`.option_models`) and :func:`.factory.create_map`.

May import: :mod:`engine.tracing`, :mod:`engine.errors`, :mod:`engine.jsonsafe`, the
standard library and pydantic (option models only, loaded lazily). Nothing above it.
"""
