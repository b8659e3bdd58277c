"""Grading under a variant: the parameters cell, the values a variant gives it, their cache."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from checks.answer_keys import keys_to_json, make_key
from checks.grading import variants
from checks.grading.parameters import (
    VariantError,
    assigned_values,
    chapter_parameters,
    notebook_parameters,
    parse_assignments,
)
from checks.grading.trust import config_dir
from checks.grading.variant_keys import VariantKeys
from checks.grading.variants import variant_keys

# --- Variants --------------------------------------------------------------------------------


def test_variant_assignments_are_parsed_and_typed_like_the_defaults():
    requested = parse_assignments(["target_digit=3", "random_state=7", "target_precision=0.8"])
    parameters = {
        1: notebook_parameters(ROOT / "solutions" / "01_mnist_binary.ipynb"),
        2: notebook_parameters(ROOT / "solutions" / "02_performance_measures.ipynb"),
        3: notebook_parameters(ROOT / "solutions" / "03_multiclass.ipynb"),
    }
    assert chapter_parameters(requested, parameters) == {
        1: {"random_state": 7, "target_digit": "3"},
        2: {"random_state": 7, "target_digit": "3", "target_precision": 0.8},
        3: {"random_state": 7},
    }


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["target_digit"], "KEY=VALUE"),
        (["=3"], "KEY=VALUE"),
        (["random_state=1", "random_state=2"], "twice"),
        (["random_stat=1"], "no chapter has a parameter random_stat"),
        (["random_state=seven"], "expected int"),
    ],
)
def test_bad_variants_are_refused_with_the_reason(items, message):
    parameters = {1: {"random_state": 42, "target_digit": "5"}}
    with pytest.raises(VariantError, match=message):
        chapter_parameters(parse_assignments(items), parameters)


def test_the_parameters_cell_is_read_with_tuple_assignments():
    assert assigned_values('a = 1  # one\ncl_a, cl_b = "3", "5"\nb = f(2)') == {
        "a": 1,
        "cl_a": "3",
        "cl_b": "5",
    }
    assert "cl_b" in notebook_parameters(ROOT / "solutions" / "04_error_analysis.ipynb")


KEY = make_key("1.1", "1234", "tests")


def test_a_variant_cache_entry_changed_by_anyone_else_is_recomputed(tmp_path, monkeypatch):
    solution = tmp_path / "01_x.ipynb"
    solution.write_text("{}")
    computed = VariantKeys({"target_digit": "3"}, {"1.1": KEY}, [])
    runs = []

    def run_once(*arguments):
        runs.append(arguments)
        return computed

    monkeypatch.setattr(variants, "execute_solution", run_once)
    cache = tmp_path / "cache"
    assert variant_keys(solution, 1, {"target_digit": "3"}, cache, report=print) == computed
    assert variant_keys(solution, 1, {"target_digit": "3"}, cache, report=print) == computed
    assert len(runs) == 1  # the second time, from the signed cache
    entry = next(cache.iterdir())
    forged = json.loads(entry.read_text())
    document = json.loads(forged["document"])
    document["flags"]["1.1"] = keys_to_json({"1.1": make_key("1.1", "0", "forged")})["1.1"]
    forged["document"] = json.dumps(document, sort_keys=True)
    entry.write_text(json.dumps(forged))
    messages = []
    assert variant_keys(solution, 1, {"target_digit": "3"}, cache, report=messages.append) == (
        computed
    )
    assert len(runs) == 2 and "recomputing" in messages[0]
    assert (config_dir() / "grader-secret").stat().st_mode & 0o077 == 0
