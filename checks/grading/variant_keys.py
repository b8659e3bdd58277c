"""The hashed answers of a chapter's solution under a variant, and their signed cache file.

What a run under a variant is judged against (:class:`VariantKeys`): the solution's answers with
the same parameters, hashed like ``answer_keys.json``, and for a score flag the solution's own
score. :mod:`checks.grading.variants` computes them (once per variant) and caches them in the
file format written here, signed with the grader's secret (:func:`checks.grading.trust.sign`): an
entry changed by anyone else does not verify, and is recomputed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from checks.answer_keys import AnswerKey, keys_from_json, keys_to_json
from checks.grading.trust import sign, verify


@dataclass(frozen=True)
class VariantKeys:
    """The answers of one chapter's solution under one variant, hashed."""

    parameters: dict[str, object]
    keys: dict[str, AnswerKey]
    unchanged: list[str]  # flags whose answer is the same as without the variant
    scores: dict[str, float] = field(default_factory=dict)  # score flags: the solution's score

    def to_json(self) -> str:
        """The cache file's text: the keys, signed with the grader's secret."""
        document = {
            "parameters": self.parameters,
            "unchanged": self.unchanged,
            "flags": keys_to_json(self.keys),
            "scores": self.scores,
        }
        text = json.dumps(document, sort_keys=True)
        return json.dumps({"document": text, "signature": sign(text)}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> VariantKeys:
        """Read a cache file; raise ``ValueError`` unless the grader's signature verifies."""
        entry = json.loads(text)
        if not isinstance(entry, dict) or not verify(entry.get("document"), entry.get("signature")):
            raise ValueError("its signature does not verify (it was changed outside the grader)")
        data = json.loads(entry["document"])
        scores = {str(flag_id): float(score) for flag_id, score in data["scores"].items()}
        return cls(
            data["parameters"], keys_from_json(data["flags"]), list(data["unchanged"]), scores
        )
