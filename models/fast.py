"""The fast tier: character n-gram TF-IDF with linear models for stage and flags.

Evidence for a raised flag comes from the features that pushed it up: each clause of
the normalised text is scored by the summed contribution (weight x feature value) of
the n-grams found in it, and the strongest clauses are returned as spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from .labels import FLAG_NAMES, STAGE_NAMES

KIND = "fast-linear"

# Clauses of normalised text (full-width punctuation is already folded): runs between
# punctuation marks, where ':' and '.' count only outside numbers (17:00, 3.5万).
_CLAUSE_RE = re.compile(r"(?:[^,.。!?;:\n，！？；：]|(?<=\d)[:.](?=\d))+")
_MAX_EVIDENCE_CLAUSES = 3
_EVIDENCE_SHARE = 0.4  # a clause must carry this share of the strongest clause's weight
_TOP_FEATURES = 40


@dataclass
class FastClassifier:
    vectorizer: TfidfVectorizer
    stage_model: LogisticRegression
    flag_models: dict[str, LogisticRegression]
    thresholds: dict[str, float] = field(default_factory=dict)

    kind = KIND

    # --- fitting ---------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        stage_texts: list[str],
        stages: list[str],
        flag_texts: list[str],
        flag_sets: list[set[str]],
        *,
        ngram_range: tuple[int, int] = (1, 3),
        min_df: int = 3,
        max_features: int | None = 100_000,
        c_stage: float = 5.0,
        c_flag: float = 5.0,
        seed: int = 0,
    ) -> FastClassifier:
        """Fit on already-normalised texts. Flags train on ``flag_texts`` (agent turns only)."""
        vectorizer = TfidfVectorizer(
            analyzer="char",
            ngram_range=ngram_range,
            min_df=min_df,
            max_features=max_features,
            sublinear_tf=True,
            dtype=np.float32,
        )
        vectorizer.fit(stage_texts + flag_texts)
        x_stage = vectorizer.transform(stage_texts)
        stage_model = LogisticRegression(C=c_stage, max_iter=500, random_state=seed)
        # Every stage must be known to the model even when a tiny corpus lacks one.
        stage_model.fit(x_stage, stages)
        x_flag = vectorizer.transform(flag_texts)
        flag_models: dict[str, LogisticRegression] = {}
        for name in FLAG_NAMES:
            y = np.array([name in s for s in flag_sets], dtype=int)
            if y.min() == y.max():
                continue  # no positives (or no negatives): the flag cannot be learned
            model = LogisticRegression(
                C=c_flag, solver="liblinear", max_iter=500, class_weight="balanced", random_state=seed
            )
            model.fit(x_flag, y)
            flag_models[name] = model
        return cls(vectorizer, stage_model, flag_models, {name: 0.5 for name in flag_models})

    # --- inference -------------------------------------------------------------
    def stage_proba(self, texts: list[str]) -> np.ndarray:
        """Probabilities over ``STAGE_NAMES`` (columns in that order)."""
        proba = self.stage_model.predict_proba(self.vectorizer.transform(texts))
        out = np.zeros((len(texts), len(STAGE_NAMES)), dtype=np.float64)
        for j, label in enumerate(self.stage_model.classes_):
            out[:, STAGE_NAMES.index(label)] = proba[:, j]
        return out

    def flag_proba(self, texts: list[str]) -> np.ndarray:
        """Probabilities per flag (columns in ``FLAG_NAMES`` order; 0 for untrained flags)."""
        out = np.zeros((len(texts), len(FLAG_NAMES)), dtype=np.float64)
        if not texts or not self.flag_models:
            return out
        x = self.vectorizer.transform(texts)
        for name, model in self.flag_models.items():
            out[:, FLAG_NAMES.index(name)] = model.predict_proba(x)[:, 1]
        return out

    def threshold(self, flag: str) -> float:
        return self.thresholds.get(flag, 0.5)

    def evidence(self, text: str, flag: str) -> list[tuple[int, int]]:
        """Spans of ``text`` (normalised) that most support ``flag``."""
        model = self.flag_models.get(flag)
        if model is None or not text:
            return []
        row = self.vectorizer.transform([text])
        coef = model.coef_[0]
        contrib = row.data * coef[row.indices]
        order = np.argsort(-contrib)[:_TOP_FEATURES]
        vocab = self._inverse_vocabulary()
        grams = [(vocab[row.indices[i]], float(contrib[i])) for i in order if contrib[i] > 0]
        if not grams:
            return []
        clauses = []
        for m in _CLAUSE_RE.finditer(text):
            s, e = m.span()
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if s < e:
                clause = text[s:e]
                score = sum(w for g, w in grams if g.strip() and g in clause)
                clauses.append((score, s, e))
        if not clauses:
            return []
        best = max(c[0] for c in clauses)
        if best <= 0:
            return []
        chosen = sorted(clauses, key=lambda c: -c[0])[:_MAX_EVIDENCE_CLAUSES]
        return sorted((s, e) for score, s, e in chosen if score >= _EVIDENCE_SHARE * best)

    def _inverse_vocabulary(self) -> list[str]:
        inv = getattr(self, "_inv_vocab", None)
        if inv is None:
            inv = [""] * len(self.vectorizer.vocabulary_)
            for gram, idx in self.vectorizer.vocabulary_.items():
                inv[idx] = gram
            self._inv_vocab = inv
        return inv

    # --- persistence -----------------------------------------------------------
    # The vectorizer is stored as plain arrays: skops would write its vocabulary dict as one
    # JSON node per n-gram (tens of MB); an array of strings plus the idf weights is small.
    def to_payload(self) -> dict:
        vocab = self._inverse_vocabulary()
        return {
            "vocabulary": np.array(vocab, dtype=str),
            "idf": self.vectorizer.idf_.astype(np.float64),
            "ngram_range": list(self.vectorizer.ngram_range),
            "stage_model": self.stage_model,
            "flag_models": self.flag_models,
        }

    @classmethod
    def from_payload(cls, payload: dict, thresholds: dict[str, float]) -> FastClassifier:
        vocab = [str(g) for g in payload["vocabulary"]]
        vectorizer = TfidfVectorizer(
            analyzer="char",
            ngram_range=tuple(payload["ngram_range"]),
            sublinear_tf=True,
            dtype=np.float32,
            vocabulary={g: i for i, g in enumerate(vocab)},
        )
        vectorizer.idf_ = np.asarray(payload["idf"], dtype=np.float64)
        classifier = cls(vectorizer, payload["stage_model"], dict(payload["flag_models"]), dict(thresholds))
        classifier._inv_vocab = vocab
        return classifier
