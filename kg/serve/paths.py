"""Where the server's own files are, in one place, because this module is one folder below kg/.

kg/templates and kg/static ship inside the package (pyproject package-data); queries/, seeds/ and
ontology/ are folders of the checkout, beside the package, as they were when this was kg/serve.py.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # kg/
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"
QUERIES = PACKAGE.parent / "queries"
# The same folder as kg.builder.SEEDS_DIR; not imported from there because kg.builder loads spaCy.
DEFAULT_SEEDS = PACKAGE.parent / "seeds"
ONTOLOGY = PACKAGE.parent / "ontology" / "wkg.ttl"  # the vocabulary, published at <base>ontology
