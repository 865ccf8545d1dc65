"""Python builders of the rev dialect (generated from dialect/RevOps.td)."""
from ._rev_ops_gen import *  # noqa: F401,F403
