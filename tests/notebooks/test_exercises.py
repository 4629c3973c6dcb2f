"""Proves every course notebook gives the student work (05's are its "break it yourself"
staging tasks): at least one markdown cell tagged ``exercise``, each followed later by a code cell
tagged ``answer`` that asserts something, before the next exercise starts. An exercise without
an answer (or an answer that checks nothing) would let the notebook run green while teaching
nothing checkable; the notebook runs themselves are in test_notebooks.py."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
WITH_EXERCISES = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def _tags(cell) -> set[str]:  # cell: nbformat.NotebookNode
    return set(cell.get("metadata", {}).get("tags", []))


def exercise_pairs(nb) -> list[tuple[int, int | None]]:
    """(exercise cell index, its answer cell index or None) for each tagged exercise."""
    pairs: list[tuple[int, int | None]] = []
    for i, cell in enumerate(nb.cells):
        if "exercise" in _tags(cell):
            pairs.append((i, None))
        elif "answer" in _tags(cell) and pairs and pairs[-1][1] is None:
            pairs[-1] = (pairs[-1][0], i)
    return pairs


def test_the_pairing_rule_catches_a_missing_answer() -> None:
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook(
        cells=[md("q1", metadata={"tags": ["exercise"]}), md("q2", metadata={"tags": ["exercise"]})]
    )
    nb.cells.append(code("assert 1", metadata={"tags": ["answer"]}))
    assert exercise_pairs(nb) == [(0, None), (1, 2)]


def test_the_course_has_notebooks_with_exercises() -> None:
    assert len(WITH_EXERCISES) == 10, [p.name for p in WITH_EXERCISES]


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_every_exercise_has_an_asserting_answer(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    pairs = exercise_pairs(nb)
    assert pairs, f"{path.name} has no cell tagged 'exercise'"
    for question, answer in pairs:
        assert answer is not None, f"{path.name}: exercise in cell {question} has no answer cell"
        cell = nb.cells[answer]
        assert cell.cell_type == "code", f"{path.name}: answer cell {answer} is not code"
        assert "assert " in cell.source, f"{path.name}: answer cell {answer} asserts nothing"
