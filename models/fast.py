"""The fast tier: character n-gram TF-IDF with linear models for stage and flags.

Evidence for a raised flag comes from the features that pushed it up: each clause of
the normalised text is scored by the summed contribution (weight x feature value) of
the n-grams found in it, and the strongest clauses are returned as spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from .classifier import Prediction
from .labels import FLAG_NAMES, STAGE_NAMES

KIND = "fast-linear"

# Clauses of normalised text (full-width punctuation is already folded): runs between
# punctuation marks, where ':' and '.' count only outside numbers (17:00, 3.5万).
_CLAUSE_RE = re.compile(r"(?:[^,.。!?;:\n，！？；：]|(?<=\d)[:.](?=\d))+")
_MAX_EVIDENCE_CLAUSES = 3
_EVIDENCE_SHARE = 0.4  # a clause must carry this share of the strongest clause's weight
_TOP_FEATURES = 40
_WHITESPACE_RE = re.compile(r"\s\s+")  # the same collapsing TfidfVectorizer's char analyser does
_EMPTY_INDICES = np.zeros(0, dtype=np.int64)
_EMPTY_VALUES = np.zeros(0, dtype=np.float64)


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
    # Inference does not go through scikit-learn: its input validation costs more than the
    # arithmetic for one short text. The fitted weights are stacked once into dense
    # matrices, each text becomes (indices, tf-idf values) with the same analyser
    # TfidfVectorizer uses, and all heads are one small product. Tests check the results
    # equal scikit-learn's.
    def predict(self, stage_texts: list[str], flag_texts: list[str]) -> list[Prediction]:
        flag_rows = [self._features(t) for t in flag_texts]
        # A plain text (no turns) is its own flag text: featurise and score it once, with
        # the stage and flag weights side by side in one matrix.
        rows, stage_at = list(flag_rows), []
        for i, (s_text, f_text) in enumerate(zip(stage_texts, flag_texts, strict=True)):
            if s_text == f_text:
                stage_at.append(i)
            else:
                stage_at.append(len(rows))
                rows.append(self._features(s_text))
        weights, bias, n_stage_columns = self._joint_weights()
        scores = self._scores(rows, weights, bias)
        stage = self._softmax_stages(scores[stage_at, :n_stage_columns])
        flags = np.zeros((len(flag_texts), len(FLAG_NAMES)), dtype=np.float64)
        if self.flag_models:
            flags[:, self._flag_weights()[2]] = 1.0 / (1.0 + np.exp(-scores[: len(flag_texts), n_stage_columns:]))
        out = []
        for i, row in enumerate(flag_rows):
            raised = [n for j, n in enumerate(FLAG_NAMES) if self.knows_flag(n) and flags[i, j] >= self.threshold(n)]
            evidence = {n: self._evidence_from_row(flag_texts[i], row, n) for n in raised}
            out.append(Prediction(stage[i], flags[i], raised, evidence, tier="fast"))
        return out

    def stage_proba(self, texts: list[str]) -> np.ndarray:
        """Probabilities over ``STAGE_NAMES`` (columns in that order)."""
        return self._stage_proba_rows([self._features(t) for t in texts])

    def _stage_proba_rows(self, rows: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        weights, bias = self._stage_weights()
        return self._softmax_stages(self._scores(rows, weights, bias))

    def _softmax_stages(self, scores: np.ndarray) -> np.ndarray:
        scores = np.array(scores, dtype=np.float64)
        if scores.shape[1] == 1:  # two stages only (tiny corpora): a binary model, p = sigmoid(d)
            scores = np.hstack([np.zeros_like(scores), scores])
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        out = np.zeros((len(scores), len(STAGE_NAMES)), dtype=np.float64)
        out[:, self._stage_columns()] = scores
        return out

    def flag_proba(self, texts: list[str]) -> np.ndarray:
        """Probabilities per flag (columns in ``FLAG_NAMES`` order; 0 for untrained flags)."""
        return self._flag_proba_rows([self._features(t) for t in texts])

    def knows_flag(self, flag: str) -> bool:
        return flag in self.flag_models

    def threshold(self, flag: str) -> float:
        return self.thresholds.get(flag, 0.5)

    def evidence(self, text: str, flag: str) -> list[tuple[int, int]]:
        """Spans of ``text`` (normalised) that most support ``flag``."""
        if flag not in self.flag_models or not text:
            return []
        return self._evidence_from_row(text, self._features(text), flag)

    def _flag_proba_rows(self, rows: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        out = np.zeros((len(rows), len(FLAG_NAMES)), dtype=np.float64)
        if not rows or not self.flag_models:
            return out
        weights, bias, columns = self._flag_weights()
        out[:, columns] = 1.0 / (1.0 + np.exp(-self._scores(rows, weights, bias)))
        return out

    def _evidence_from_row(self, text: str, row: tuple[np.ndarray, np.ndarray], flag: str) -> list[tuple[int, int]]:
        indices, values = row
        if not len(indices):
            return []
        coef = self.flag_models[flag].coef_[0]
        contrib = values * coef[indices]
        order = np.argsort(-contrib)[:_TOP_FEATURES]
        vocab = self._inverse_vocabulary()
        grams = [(vocab[indices[i]], float(contrib[i])) for i in order if contrib[i] > 0]
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

    def _features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The tf-idf row of ``text`` as (vocabulary indices, l2-normalised values)."""
        vocab = self.vectorizer.vocabulary_
        low, high = self.vectorizer.ngram_range
        doc = _WHITESPACE_RE.sub(" ", text.lower())
        counts: dict[int, int] = {}
        for n in range(low, min(high, len(doc)) + 1):
            for i in range(len(doc) - n + 1):
                idx = vocab.get(doc[i : i + n])
                if idx is not None:
                    counts[idx] = counts.get(idx, 0) + 1
        if not counts:
            return _EMPTY_INDICES, _EMPTY_VALUES
        indices = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        values = (1.0 + np.log(tf)) * self._idf()[indices]
        values /= np.sqrt(values @ values)
        return indices, values

    def _scores(self, rows, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
        if len(rows) == 1:
            indices, values = rows[0]
            return (bias + values @ weights[indices])[None, :]
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(indices) for indices, _ in rows], out=indptr[1:])
        matrix = csr_matrix(
            (np.concatenate([v for _, v in rows] or [_EMPTY_VALUES]),
             np.concatenate([i for i, _ in rows] or [_EMPTY_INDICES]), indptr),
            shape=(len(rows), weights.shape[0]),
        )
        return np.asarray(matrix @ weights) + bias

    def _joint_weights(self) -> tuple[np.ndarray, np.ndarray, int]:
        """Stage and flag weights side by side: (vocabulary, stage classes + flags)."""
        cached = self.__dict__.get("_joint_cache")
        if cached is None:
            stage_w, stage_b = self._stage_weights()
            parts_w, parts_b = [stage_w], [stage_b]
            if self.flag_models:
                flag_w, flag_b, _ = self._flag_weights()
                parts_w.append(flag_w)
                parts_b.append(flag_b)
            cached = self._joint_cache = (np.ascontiguousarray(np.hstack(parts_w)), np.concatenate(parts_b),
                                          stage_w.shape[1])
        return cached

    def _idf(self) -> np.ndarray:
        idf = self.__dict__.get("_idf_cache")
        if idf is None:
            idf = self._idf_cache = np.asarray(self.vectorizer.idf_, dtype=np.float64)
        return idf

    def _stage_weights(self) -> tuple[np.ndarray, np.ndarray]:
        cached = self.__dict__.get("_stage_cache")
        if cached is None:
            # (vocabulary, classes) so that one row gather serves every class.
            cached = self._stage_cache = (
                np.ascontiguousarray(self.stage_model.coef_.T, dtype=np.float64),
                np.asarray(self.stage_model.intercept_, dtype=np.float64),
            )
        return cached

    def _stage_columns(self) -> list[int]:
        return [STAGE_NAMES.index(label) for label in self.stage_model.classes_]

    def _flag_weights(self) -> tuple[np.ndarray, np.ndarray, list[int]]:
        cached = self.__dict__.get("_flag_cache")
        if cached is None:
            names = list(self.flag_models)
            cached = self._flag_cache = (
                np.ascontiguousarray(np.vstack([self.flag_models[n].coef_[0] for n in names]).T, dtype=np.float64),
                np.array([self.flag_models[n].intercept_[0] for n in names], dtype=np.float64),
                [FLAG_NAMES.index(n) for n in names],
            )
        return cached

    def _inverse_vocabulary(self) -> list[str]:
        inv = self.__dict__.get("_inv_vocab")
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

    @classmethod
    def from_artifact(cls, artifact) -> FastClassifier:
        return cls.from_payload(artifact.payload, artifact.manifest.get("thresholds", {}))
