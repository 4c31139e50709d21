"""The pages: one package a user journey, its blueprint in the package's `__init__` and its routes in
the package's modules; a journey imports no other journey's views, only `casework.views.shared`.
docs/architecture.md lists the journeys."""
