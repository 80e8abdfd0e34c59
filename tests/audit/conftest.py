"""Event types the audit tests write: declared in the catalogue like any other, so
the log under test refuses undeclared types exactly as it does in production."""

from audit import catalogue

for _name in (
    "test.event",
    "after.event",
    "alpha.event",
    "beta.event",
    "load.event",
    "after.loss",
    "doomed",
    "x",
):
    if _name not in catalogue.CATALOGUE:
        catalogue.declare(_name, "written by the audit tests", "CC4.1")
