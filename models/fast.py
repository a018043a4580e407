"""The fast tier: character n-gram TF-IDF with linear models for stage and flags.

Features
    Character 1-3-grams of the normalised text (always), optionally word 1-2-grams from
    jieba in a second block with its own vocabulary and idf (each block l2-normalised, as
    a scikit-learn ``FeatureUnion`` of two ``TfidfVectorizer`` would give).

Scope marks (optional)
    A threat that the sender quotes, negates or forbids is not a threat by the sender
    ("我司不会联系您的家人", a complaint quoting "再不还就把你照片发到群里"). N-grams that
    touch such a scope become separate features: the gram with a private-use mark in front
    (``_NEG_MARK`` or ``_QUOTE_MARK``). Scopes are found on the text itself, with cue lists
    written from the language, not from any split: quotations of 6+ characters (not the
    content right after a publishing verb, "朋友圈已发:'此人借钱不还'", which is the
    sender's own act); reported speech ("催收员说...", "对方扬言...") to the end of its
    sentence; a negation or prohibition cue (不会, 不得, 禁止, 请勿, ...) to the end of its
    clause. A marked gram that training never saw has no weight, so an unseen negated
    threat scores like text without the threat. One more pseudo-feature
    (``_FRAME_FEATURE``) says that the text reports on collection (a complaint, a news
    report, a question). Marks change only the feature keys, never the text, so evidence
    spans index the normalised text as before.

Calibration (optional, fitted on dev by training)
    A temperature for the stage softmax and Platt parameters (a > 0, b) per flag, kept as
    plain floats. Both are folded into the stacked weights, so they cost nothing at run
    time and leave the ranking of texts unchanged. Artifacts without them behave as before.

Evidence for a raised flag comes from the features that pushed it up: each clause of
the normalised text is scored by the summed contribution (weight x feature value) of
the n-grams found in it, and the strongest clauses are returned as spans.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from .artifact import ArtifactError
from .classifier import Prediction
from .labels import FLAG_NAMES, STAGE_NAMES
from .text import clause_spans

KIND = "fast-linear"

_MAX_EVIDENCE_CLAUSES = 3
_EVIDENCE_SHARE = 0.4  # a clause must carry this share of the strongest clause's weight
_TOP_FEATURES = 40
_WHITESPACE_RE = re.compile(r"\s\s+")  # the same collapsing TfidfVectorizer's char analyser does
_EMPTY_INDICES = np.zeros(0, dtype=np.int64)
_EMPTY_VALUES = np.zeros(0, dtype=np.float64)

# --- scope marks ---------------------------------------------------------------------
SCOPE_RULES = 1  # the version of the cue lists and rules below (see FeatureOptions.scope_rules)
# Private-use characters: never produced by normalisation of real text.
_NEG_MARK = "\ue001"
_QUOTE_MARK = "\ue002"
_FRAME_FEATURE = "\ue003"
_MARKS = _NEG_MARK + _QUOTE_MARK + _FRAME_FEATURE

# Quotation marks after normalisation (NFKC folds ＂ and ＇ to " and '). 《》 is left out:
# it names documents (《催收函》), it does not quote anyone. Texts mix styles (「...”), so
# any closing mark closes any opening one.
_QUOTE_RE = re.compile(r"[“「『‘\"'][^”」』’\"'“「『‘\n]*[”」』’\"']")
# A quote right after a publishing verb is the content the text publishes or threatens to
# publish ("朋友圈已发:'此人借钱不还'", "标题'老赖长这样'"), the sender's own act: not
# marked, unless a verb of saying stands right before the quote ("发消息说“...”").
_PUBLISH_RE = re.compile(
    r"(?:发|贴|配文|标题|置顶|公示|写在|写上|写成|印上|印成|挂|做成|文案|内容是|打上)[了到在]?[^,.。!?;\n]{0,6}?:?$"
)
_SPEECH_RE = re.compile(r"(?:说|称|道|讲|问|骂|扬言|威胁|写着|写道|原话|表示|回复|答|声明|规定|条|提醒)[^,.。!?;\n]{0,2}$")
# Reported speech without quotation marks: someone other than the sender said or
# threatened something ("催收员说要把我照片发到群里"). The scope runs to the end of the
# sentence, as reported speech does.
_REPORTED_RE = re.compile(
    r"(?:催收|对方|他们|他|她|坐席|有人|那人|这人|客服|专员|外访员|工作人员|业务员|网友)"
    r"[^,.。!?;\n]{0,8}?(?:说|称|扬言|威胁|声称|讲)"
)
_SENTENCE_END_RE = re.compile(r"[。!?\n]")
_MAX_REPORTED = 60
# Negation and prohibition cues. A bare 不 is not one: "不还钱就上门" is a threat.
# (Factored by first character: Python's re tries alternatives one by one.)
_NEGATION_RE = re.compile(
    r"不[会得准许再]|禁止|严禁|[请切]勿|[绝决]不|从(?:不|未|来不)|并[未不]|未曾|无权"
    r"|\b(?:not|never|no longer|don't|won't|doesn't|cannot)\b"
)
# A negation's scope ends with its clause, or where a new predicate takes over
# ("不会..., 但会...", "没还就...").
_SCOPE_END_RE = re.compile(r"[,.。!?;:\n]|但|却|而是|就|否则|反而|只会")
_MAX_SCOPE = 24
# Frames that report on collection rather than do it: complaints, news, questions.
_FRAME_RE = re.compile(
    r"投诉|举报|维权|求助|曝光了|报道|记者|网友|通报|据悉|网帖|帖子"
    r"|催收(?:员|人员|方)?(?:说|称|扬言|威胁)|对方(?:说|称)|声称|扬言|这合法吗|违法吗|怎么办"
)


@dataclass(frozen=True)
class FeatureOptions:
    """What the analysers produce besides plain character n-grams (all off: the old model)."""

    negation: bool = False
    quotes: bool = False
    quote_min_chars: int = 6  # shorter quotes are names, buttons, scare quotes (“本所”, “我的-还款”)
    frame: bool = False
    words: bool = False
    word_ngram_max: int = 2
    # The version of the cue lists and scope rules above. A model with marks was fitted on
    # the keys they produce: change a rule and bump this, and such models refuse to load.
    scope_rules: int = SCOPE_RULES

    @property
    def marks(self) -> bool:
        return self.negation or self.quotes

    def to_payload(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_payload(cls, raw: dict | None) -> FeatureOptions:
        raw = raw or {}
        options = cls(**{k: type(getattr(cls(), k))(v) for k, v in raw.items() if k in cls.__dataclass_fields__})
        if (options.marks or options.frame) and options.scope_rules != SCOPE_RULES:
            raise ArtifactError(f"model uses scope rules version {options.scope_rules}; this cuishou has {SCOPE_RULES}")
        return options


def _doc(text: str) -> str:
    return _WHITESPACE_RE.sub(" ", text.lower())


def scope_marks(doc: str, options: FeatureOptions) -> str | None:
    """One character per character of ``doc``: 'q' quoted, 'n' negated, '.' neither.

    ``None`` when nothing is marked (most texts), so callers take the plain path.
    """
    marks = None
    if options.negation:
        for m in _NEGATION_RE.finditer(doc):
            start = m.start()
            stop = _SCOPE_END_RE.search(doc, m.end(), min(len(doc), m.end() + _MAX_SCOPE))
            end = stop.start() if stop else min(len(doc), m.end() + _MAX_SCOPE)
            if marks is None:
                marks = ["."] * len(doc)
            for i in range(start, end):
                if marks[i] == ".":
                    marks[i] = "n"
    if options.quotes:
        spans = [m.span() for m in _QUOTE_RE.finditer(doc)
                 if m.end() - m.start() - 2 >= options.quote_min_chars and not _publishes(doc, m.start())]
        for m in _REPORTED_RE.finditer(doc):
            stop = _SENTENCE_END_RE.search(doc, m.end(), min(len(doc), m.end() + _MAX_REPORTED))
            spans.append((m.start(), stop.start() if stop else min(len(doc), m.end() + _MAX_REPORTED)))
        for start, end in spans:
            if marks is None:
                marks = ["."] * len(doc)
            marks[start:end] = "q" * (end - start)
    return None if marks is None else "".join(marks)


def _publishes(doc: str, quote_start: int) -> bool:
    return bool(_PUBLISH_RE.search(doc, max(0, quote_start - 10), quote_start)
                and not _SPEECH_RE.search(doc, max(0, quote_start - 4), quote_start))


def _mark_of(span_marks: str) -> str:
    if "q" in span_marks:
        return _QUOTE_MARK
    if "n" in span_marks:
        return _NEG_MARK
    return ""


def char_analyzer(text: str, ngram_range: tuple[int, int], options: FeatureOptions) -> list[str]:
    """The character features of ``text`` as a list of keys (the scikit-learn analyser).

    Without marks this is exactly TfidfVectorizer's ``analyzer="char"``.
    """
    doc = _doc(text)
    low, high = ngram_range
    marks = scope_marks(doc, options) if options.marks else None
    grams = []
    for n in range(low, min(high, len(doc)) + 1):
        for i in range(len(doc) - n + 1):
            gram = doc[i : i + n]
            grams.append(gram if marks is None else _mark_of(marks[i : i + n]) + gram)
    if options.frame and _FRAME_RE.search(doc):
        grams.append(_FRAME_FEATURE)
    return grams


_JIEBA_LOCK = threading.Lock()
_JIEBA = None


def _jieba():
    """jieba, imported and initialised on first use, without its log lines."""
    global _JIEBA
    if _JIEBA is None:
        with _JIEBA_LOCK:
            if _JIEBA is None:
                import logging

                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _JIEBA = jieba
    return _JIEBA


def word_tokens(text: str, options: FeatureOptions) -> list[str]:
    """jieba words of ``text`` (no HMM: fast and deterministic), marks in front where a
    scope touches the word; tokens without a letter, digit or character are dropped."""
    doc = _doc(text)
    return _words(doc, scope_marks(doc, options) if options.marks else None)


def _words(doc: str, marks: str | None) -> list[str]:
    out, pos = [], 0
    for tok in _jieba().lcut(doc, HMM=False):
        end = pos + len(tok)
        if any(c.isalnum() for c in tok):
            out.append(tok if marks is None else _mark_of(marks[pos:end]) + tok)
        pos = end
    return out


def _char_vectorizer(ngram_range, options: FeatureOptions, **kwargs) -> TfidfVectorizer:
    if options.marks or options.frame:
        analyzer = partial(char_analyzer, ngram_range=tuple(ngram_range), options=options)
        return TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, dtype=np.float32, **kwargs)
    return TfidfVectorizer(analyzer="char", ngram_range=tuple(ngram_range), sublinear_tf=True, dtype=np.float32,
                           **kwargs)


def _word_vectorizer(options: FeatureOptions, **kwargs) -> TfidfVectorizer:
    return TfidfVectorizer(
        tokenizer=partial(word_tokens, options=options), token_pattern=None, lowercase=False,
        ngram_range=(1, options.word_ngram_max), sublinear_tf=True, dtype=np.float32, **kwargs,
    )


def _surface(key: str) -> str:
    """The text a feature key matches in the normalised text (marks and word joins removed)."""
    return key.translate(_STRIP_MARKS)


_STRIP_MARKS = {ord(c): None for c in _MARKS}


@dataclass
class FastClassifier:
    vectorizer: TfidfVectorizer
    stage_model: LogisticRegression
    flag_models: dict[str, LogisticRegression]
    thresholds: dict[str, float] = field(default_factory=dict)
    word_vectorizer: TfidfVectorizer | None = None
    options: FeatureOptions = field(default_factory=FeatureOptions)
    # Calibration: stage logits are divided by the temperature; a flag's probability is
    # sigmoid(a * score + b). Identity when absent.
    stage_temperature: float = 1.0
    flag_calibration: dict[str, tuple[float, float]] = field(default_factory=dict)

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
        options: FeatureOptions | None = None,
        word_min_df: int = 2,
        word_max_features: int | None = 50_000,
    ) -> FastClassifier:
        """Fit on already-normalised texts. Flags train on ``flag_texts`` (agent turns only)."""
        options = options or FeatureOptions()
        vectorizer = _char_vectorizer(ngram_range, options, min_df=min_df, max_features=max_features)
        vectorizer.fit(stage_texts + flag_texts)
        word_vectorizer = None
        if options.words:
            word_vectorizer = _word_vectorizer(options, min_df=word_min_df, max_features=word_max_features)
            word_vectorizer.fit(stage_texts + flag_texts)
        classifier = cls(vectorizer, None, {}, {}, word_vectorizer, options)  # type: ignore[arg-type]
        x_stage = classifier.transform_reference(stage_texts)
        stage_model = LogisticRegression(C=c_stage, max_iter=500, random_state=seed)
        # Every stage must be known to the model even when a tiny corpus lacks one.
        stage_model.fit(x_stage, stages)
        x_flag = classifier.transform_reference(flag_texts)
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
        classifier.stage_model = stage_model
        classifier.flag_models = flag_models
        classifier.thresholds = {name: 0.5 for name in flag_models}
        return classifier

    def transform_reference(self, texts: list[str]):
        """The feature matrix through scikit-learn (for fitting and tests; slow per call)."""
        x = self.vectorizer.transform(texts)
        if self.word_vectorizer is not None:
            x = hstack([x, self.word_vectorizer.transform(texts)], format="csr")
        return x

    # --- calibration -----------------------------------------------------------
    def calibrate(
        self, stage_texts: list[str], stages: list[str], flag_texts: list[str], flag_sets: list[set[str]]
    ) -> None:
        """Fit the stage temperature and per-flag Platt scaling on held-out texts (dev).

        Both are monotone: the stage argmax and the order of texts by a flag's score stay
        as they were; only the probabilities (and so the thresholds to choose) change.
        """
        self.set_calibration(1.0, {})
        known = {label: j for j, label in enumerate(self.stage_model.classes_)}
        keep = [i for i, s in enumerate(stages) if s in known]
        temperature = 1.0
        if keep:
            logits = self._raw_stage_logits([stage_texts[i] for i in keep])
            temperature = fit_temperature(logits, np.array([known[stages[i]] for i in keep]))
        platt = {}
        if self.flag_models and flag_texts:
            scores = self.flag_decision(flag_texts)
            for name in self.flag_models:
                y = np.array([name in s for s in flag_sets], dtype=float)
                if 0 < y.sum() < len(y):
                    platt[name] = fit_platt(scores[:, FLAG_NAMES.index(name)], y)
        self.set_calibration(temperature, platt)

    def set_calibration(self, temperature: float, flag_calibration: dict[str, tuple[float, float]]) -> None:
        self.stage_temperature = float(temperature)
        self.flag_calibration = {k: (float(a), float(b)) for k, (a, b) in flag_calibration.items()}
        for key in ("_stage_cache", "_flag_cache", "_joint_cache"):
            self.__dict__.pop(key, None)

    def _raw_stage_logits(self, texts: list[str]) -> np.ndarray:
        """Uncalibrated stage logits, one column per class of the model (two for a binary one)."""
        w, b = self.stage_model.coef_.T.astype(np.float64), self.stage_model.intercept_.astype(np.float64)
        logits = self._scores([self._features(t) for t in texts], np.ascontiguousarray(w), b)
        return np.hstack([np.zeros_like(logits), logits]) if logits.shape[1] == 1 else logits

    def flag_decision(self, texts: list[str]) -> np.ndarray:
        """Uncalibrated decision scores per flag (columns in ``FLAG_NAMES`` order, 0 for untrained)."""
        out = np.zeros((len(texts), len(FLAG_NAMES)), dtype=np.float64)
        if not texts or not self.flag_models:
            return out
        names = list(self.flag_models)
        w = np.ascontiguousarray(np.vstack([self.flag_models[n].coef_[0] for n in names]).T, dtype=np.float64)
        b = np.array([self.flag_models[n].intercept_[0] for n in names], dtype=np.float64)
        out[:, [FLAG_NAMES.index(n) for n in names]] = self._scores([self._features(t) for t in texts], w, b)
        return out

    # --- inference -------------------------------------------------------------
    # Inference does not go through scikit-learn: its input validation costs more than the
    # arithmetic for one short text. The fitted weights are stacked once into dense
    # matrices, each text becomes (indices, tf-idf values) with the same analyser
    # TfidfVectorizer uses, and all heads are one small product. Tests check the results
    # equal scikit-learn's.
    def predict(self, stage_texts: list[str], flag_texts: list[str], *, evidence: bool = True) -> list[Prediction]:
        """One prediction per item; ``evidence=False`` leaves raised flags without spans
        (the cascade asks for them only where the fast tier's flags stand)."""
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
            spans = {n: self._evidence_from_row(flag_texts[i], row, n) for n in raised} if evidence else {}
            out.append(Prediction(stage[i], flags[i], raised, spans, tier="fast"))
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
        # Marked grams and word n-grams are matched by their surface text: marks change
        # only the features, never the text, so spans index ``text`` as given.
        grams = [(vocab[indices[i]], float(contrib[i])) for i in order if contrib[i] > 0]
        if not grams:
            return []
        clauses = []
        for s, e in clause_spans(text):
            clause = text[s:e]
            clauses.append((sum(w for g, w in grams if g.strip() and g in clause), s, e))
        if not clauses:
            return []
        best = max(c[0] for c in clauses)
        if best <= 0:
            return []
        chosen = sorted(clauses, key=lambda c: -c[0])[:_MAX_EVIDENCE_CLAUSES]
        return sorted((s, e) for score, s, e in chosen if score >= _EVIDENCE_SHARE * best)

    def _features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The feature row of ``text`` as (indices, values): the char tf-idf block, then the
        word block when there is one, each l2-normalised."""
        doc = _WHITESPACE_RE.sub(" ", text.lower())
        options = self.options
        marks = scope_marks(doc, options) if options.marks else None
        counts = self._char_counts(doc, marks)
        if options.frame and _FRAME_RE.search(doc):
            idx = self.vectorizer.vocabulary_.get(_FRAME_FEATURE)
            if idx is not None:
                counts[idx] = 1
        indices, values = self._tfidf(counts, self._idf())
        if self.word_vectorizer is None:
            return indices, values
        w_indices, w_values = self._tfidf(self._word_counts(doc, marks), self._word_idf())
        if not len(w_indices):
            return indices, values
        return (np.concatenate([indices, w_indices + len(self._idf())]), np.concatenate([values, w_values]))

    def _char_counts(self, doc: str, marks: str | None) -> dict[int, int]:
        vocab = self.vectorizer.vocabulary_
        low, high = self._ngram_range()
        counts: dict[int, int] = {}
        if marks is None:
            for n in range(low, min(high, len(doc)) + 1):
                for i in range(len(doc) - n + 1):
                    idx = vocab.get(doc[i : i + n])
                    if idx is not None:
                        counts[idx] = counts.get(idx, 0) + 1
            return counts
        for n in range(low, min(high, len(doc)) + 1):
            plain = "." * n
            for i in range(len(doc) - n + 1):
                window = marks[i : i + n]
                gram = doc[i : i + n]
                if window != plain:
                    gram = (_QUOTE_MARK if "q" in window else _NEG_MARK) + gram
                idx = vocab.get(gram)
                if idx is not None:
                    counts[idx] = counts.get(idx, 0) + 1
        return counts

    def _word_counts(self, doc: str, marks: str | None) -> dict[int, int]:
        vocab = self.word_vectorizer.vocabulary_
        tokens = _words(doc, marks)
        counts: dict[int, int] = {}
        for n in range(1, min(self.options.word_ngram_max, len(tokens)) + 1):
            for i in range(len(tokens) - n + 1):
                idx = vocab.get(tokens[i] if n == 1 else " ".join(tokens[i : i + n]))
                if idx is not None:
                    counts[idx] = counts.get(idx, 0) + 1
        return counts

    @staticmethod
    def _tfidf(counts: dict[int, int], idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not counts:
            return _EMPTY_INDICES, _EMPTY_VALUES
        indices = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        values = (1.0 + np.log(tf)) * idf[indices]
        values /= np.sqrt(values @ values)
        return indices, values

    def _ngram_range(self) -> tuple[int, int]:
        cached = self.__dict__.get("_ngram_cache")
        if cached is None:
            analyzer = self.vectorizer.analyzer
            cached = self._ngram_cache = tuple(
                analyzer.keywords["ngram_range"] if isinstance(analyzer, partial) else self.vectorizer.ngram_range
            )
        return cached

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

    def _word_idf(self) -> np.ndarray:
        idf = self.__dict__.get("_word_idf_cache")
        if idf is None:
            idf = self._word_idf_cache = np.asarray(self.word_vectorizer.idf_, dtype=np.float64)
        return idf

    def _stage_weights(self) -> tuple[np.ndarray, np.ndarray]:
        cached = self.__dict__.get("_stage_cache")
        if cached is None:
            # (vocabulary, classes) so that one row gather serves every class; the
            # temperature divides the logits, so it divides the weights.
            t = self.stage_temperature
            cached = self._stage_cache = (
                np.ascontiguousarray(self.stage_model.coef_.T / t, dtype=np.float64),
                np.asarray(self.stage_model.intercept_ / t, dtype=np.float64),
            )
        return cached

    def _stage_columns(self) -> list[int]:
        return [STAGE_NAMES.index(label) for label in self.stage_model.classes_]

    def _flag_weights(self) -> tuple[np.ndarray, np.ndarray, list[int]]:
        cached = self.__dict__.get("_flag_cache")
        if cached is None:
            names = list(self.flag_models)
            platt = np.array([self.flag_calibration.get(n, (1.0, 0.0)) for n in names], dtype=np.float64)
            coef = np.vstack([self.flag_models[n].coef_[0] for n in names]).T * platt[:, 0]
            intercept = np.array([self.flag_models[n].intercept_[0] for n in names], dtype=np.float64)
            cached = self._flag_cache = (
                np.ascontiguousarray(coef, dtype=np.float64),
                intercept * platt[:, 0] + platt[:, 1],
                [FLAG_NAMES.index(n) for n in names],
            )
        return cached

    def _inverse_vocabulary(self) -> list[str]:
        """Surface text of every feature, char block then word block (for evidence)."""
        inv = self.__dict__.get("_inv_vocab")
        if inv is None:
            inv = _inverse(self.vectorizer.vocabulary_)
            if self.word_vectorizer is not None:
                inv += [g.replace(" ", "") for g in _inverse(self.word_vectorizer.vocabulary_)]
            inv = [_surface(g) for g in inv]
            self._inv_vocab = inv
        return inv

    # --- persistence -----------------------------------------------------------
    # The vectorizer is stored as plain arrays: skops would write its vocabulary dict as one
    # JSON node per n-gram (tens of MB); an array of strings plus the idf weights is small.
    # New keys (features, words, calibration) are optional: older artifacts lack them.
    def to_payload(self) -> dict:
        payload = {
            "vocabulary": np.array(_inverse(self.vectorizer.vocabulary_), dtype=str),
            "idf": self.vectorizer.idf_.astype(np.float64),
            "ngram_range": list(self._ngram_range()),
            "stage_model": self.stage_model,
            "flag_models": self.flag_models,
        }
        if self.options != FeatureOptions():
            payload["features"] = self.options.to_payload()
        if self.word_vectorizer is not None:
            payload["word_vocabulary"] = np.array(_inverse(self.word_vectorizer.vocabulary_), dtype=str)
            payload["word_idf"] = self.word_vectorizer.idf_.astype(np.float64)
        if self.stage_temperature != 1.0 or self.flag_calibration:
            payload["calibration"] = {
                "stage_temperature": float(self.stage_temperature),
                "flag_a": {k: float(a) for k, (a, _) in self.flag_calibration.items()},
                "flag_b": {k: float(b) for k, (_, b) in self.flag_calibration.items()},
            }
        return payload

    @classmethod
    def from_payload(cls, payload: dict, thresholds: dict[str, float]) -> FastClassifier:
        options = FeatureOptions.from_payload(payload.get("features"))
        vocab = [str(g) for g in payload["vocabulary"]]
        vectorizer = _char_vectorizer(tuple(payload["ngram_range"]), options,
                                      vocabulary={g: i for i, g in enumerate(vocab)})
        vectorizer.idf_ = np.asarray(payload["idf"], dtype=np.float64)
        word_vectorizer = None
        if "word_vocabulary" in payload:
            words = [str(g) for g in payload["word_vocabulary"]]
            word_vectorizer = _word_vectorizer(options, vocabulary={g: i for i, g in enumerate(words)})
            word_vectorizer.idf_ = np.asarray(payload["word_idf"], dtype=np.float64)
        calibration = payload.get("calibration") or {}
        flag_a, flag_b = calibration.get("flag_a", {}), calibration.get("flag_b", {})
        return cls(
            vectorizer, payload["stage_model"], dict(payload["flag_models"]), dict(thresholds), word_vectorizer,
            options, float(calibration.get("stage_temperature", 1.0)),
            {k: (float(flag_a[k]), float(flag_b.get(k, 0.0))) for k in flag_a},
        )

    @classmethod
    def from_artifact(cls, artifact) -> FastClassifier:
        return cls.from_payload(artifact.payload, artifact.manifest.get("thresholds", {}))


def _inverse(vocabulary: dict[str, int]) -> list[str]:
    inv = [""] * len(vocabulary)
    for gram, idx in vocabulary.items():
        inv[idx] = gram
    return inv


# --- calibration fits ------------------------------------------------------------------
def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature T > 0 minimising the negative log-likelihood of softmax(logits / T)."""
    from scipy.optimize import minimize_scalar
    from scipy.special import logsumexp

    logits = np.asarray(logits, dtype=np.float64)
    picked = logits[np.arange(len(y)), y]

    def nll(log_t: float) -> float:
        t = np.exp(log_t)
        return float(np.mean(logsumexp(logits / t, axis=1) - picked / t))

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


def fit_platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt's (a, b) for p = sigmoid(a * score + b), with Platt's smoothed targets (so that a
    handful of positives does not give probabilities of exactly 0 or 1). Newton's method
    with a backtracking line search, as in Platt's paper (the loss is convex in a, b).

    ``a`` stays positive so that calibration never reverses the order of texts: scores
    that do not rise with the label get a tiny slope, leaving the base rate."""
    from scipy.special import expit

    scores = np.asarray(scores, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n_pos, n_neg = y.sum(), len(y) - y.sum()
    target = np.where(y > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))

    def loss(a: float, b: float) -> float:
        z = a * scores + b
        return float(np.sum(np.logaddexp(0.0, z) - target * z))

    a, b = 0.0, float(np.log((n_pos + 1) / (n_neg + 1)))
    current = loss(a, b)
    for _ in range(100):
        p = expit(a * scores + b)
        residual, weight = p - target, np.maximum(p * (1 - p), 1e-12)
        grad = np.array([residual @ scores, residual.sum()])
        hess = np.array([[weight @ (scores * scores) + 1e-12, weight @ scores],
                         [weight @ scores, weight.sum() + 1e-12]])
        step = np.linalg.solve(hess, grad)
        rate = 1.0
        while rate > 1e-10:
            new_a, new_b = a - rate * step[0], b - rate * step[1]
            new = loss(new_a, new_b)
            if new < current + 1e-4 * rate * float(grad @ -step):
                break
            rate /= 2
        else:
            break
        done = abs(new_a - a) + abs(new_b - b) < 1e-7
        a, b, current = new_a, new_b, new
        if done:
            break
    if a <= 1e-6:
        a = 1e-6
        b = float(np.log(target.mean() / (1 - target.mean())))
    return float(a), float(b)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """ECE with ``bins`` equal-width bins: the mean |accuracy - confidence| weighted by bin size."""
    confidence = np.asarray(confidence, dtype=np.float64).ravel()
    correct = np.asarray(correct, dtype=np.float64).ravel()
    if not len(confidence):
        return 0.0
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.sum() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total / len(confidence))
