"""wartime-kg: a knowledge graph and entity linker for the Allied correspondence of the Second World War."""

__version__ = "0.1.0"
