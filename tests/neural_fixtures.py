"""A tiny XLM-R-like tokenizer for the neural-tier tests (tokenizers only, no download).

Unigram over single characters (plus a few two-character pieces, so segmentation is not
trivial), Metaspace pre-tokenisation and ``<s> … </s>`` around a text: the same shape as
the pruned e5 tokenizer, so windowing, prefixes and offsets behave as they will for real.
"""

from __future__ import annotations

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
BOS, PAD, EOS, UNK = 0, 1, 2, 3
WORDS = ("逾期", "还款", "家人", "安全", "警察", "坐牢", "老赖", "电话", "催收", "▁query")


def tiny_tokenizer(texts: list[str], extra: str = "query:") -> Tokenizer:
    """A Unigram tokenizer knowing every character of ``texts`` (others become ``<unk>``)."""
    chars = sorted({c for t in texts for c in t if not c.isspace()} | set(extra))
    vocab = [(p, 0.0) for p in SPECIALS] + [("▁", -2.0)]
    # Longer pieces score higher per character, so "逾期" beats "逾" + "期".
    vocab += [(w, -3.0) for w in WORDS] + [(c, -4.0) for c in chars]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=UNK, byte_fallback=False))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tokenizer.add_special_tokens([AddedToken(p, special=True, normalized=False) for p in SPECIALS])
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", BOS), ("</s>", EOS)]
    )
    tokenizer.enable_padding(pad_id=PAD, pad_token="<pad>")
    tokenizer.enable_truncation(max_length=512)
    return tokenizer
