"""Hand-written sentence fragments in the template syntax of ``corpora.generator.doc``."""


def L(block: str) -> list[str]:
    """One fragment per non-empty line; lines starting with # are comments."""
    return [ln.strip() for ln in block.splitlines() if ln.strip() and not ln.strip().startswith("#")]
