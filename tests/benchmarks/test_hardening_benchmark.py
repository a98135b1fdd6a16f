"""The hardening benchmark's bookkeeping: which training runs are finished, and how a finished
part is kept and restored, so that a killed benchmark continues where it stopped."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

hardening = pytest.importorskip("hardening")


def _checkpoint(folder: Path, step: int) -> None:
    folder.mkdir(parents=True)
    (folder / "checkpoint.json").write_text(json.dumps({"step": step}))


def test_a_killed_run_is_not_finished(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert not hardening.finished(run, 100)
    _checkpoint(run / "best", 50)
    _checkpoint(run / "last", 50)  # killed at step 50 of 100: it has a best, and resumes
    assert not hardening.finished(run, 100)
    assert hardening.finished(run, 50)
    (run / "last" / "checkpoint.json").write_text("{broken")
    assert not hardening.finished(run, 50)


calls: list[object] = []


class _Bench:
    def __init__(self, work: Path) -> None:
        self.work, self.budget = work, hardening.QUICK
        self.lines: list[str] = []
        self.timings: list[tuple[str, float, bool]] = []

    def sweep(self) -> None:
        calls.append(self)
        self.ordinary = {"multihead@target": 0.9}
        self.lines.append("| table |")
        hardening.COMPETENT_NAMES.add("multihead@target")
        self.gallery = ["sweep row"]

    def ensemble(self) -> None:
        calls.append(self)
        self.gallery.append("ensemble row")  # grows the sweep's list in place


def test_a_finished_part_is_restored_not_rerun(tmp_path: Path) -> None:
    first = _Bench(tmp_path)
    hardening.run_section(first, first.sweep)
    assert calls == [first] and (tmp_path / "sections" / "sweep.pkl").exists()
    hardening.COMPETENT_NAMES.clear()
    again = _Bench(tmp_path)
    hardening.run_section(again, again.sweep)
    assert calls == [first]  # restored, not run again
    assert again.ordinary == {"multihead@target": 0.9} and again.lines == ["| table |"]
    assert sorted(hardening.COMPETENT_NAMES) == ["multihead@target"]
    assert again.timings[0][0] == "sweep" and again.timings[0][2] is True
    other = _Bench(tmp_path)
    other.budget = hardening.FULL  # another budget: the saved part does not apply
    hardening.run_section(other, other.sweep)
    assert calls == [first, other]
    hardening.COMPETENT_NAMES.clear()


def test_a_part_that_grows_an_earlier_list_is_restored_with_it(tmp_path: Path) -> None:
    calls.clear()
    first = _Bench(tmp_path)
    hardening.run_section(first, first.sweep)
    hardening.run_section(first, first.ensemble)
    again = _Bench(tmp_path)
    hardening.run_section(again, again.sweep)
    hardening.run_section(again, again.ensemble)
    assert calls == [first, first]  # both restored
    assert again.gallery == ["sweep row", "ensemble row"]
    hardening.COMPETENT_NAMES.clear()


def test_the_updated_attacker_is_the_strongest_competent_one_with_a_checkpoint(
    tmp_path: Path,
) -> None:
    ordinary = {"crnn_resnet@target": 0.0, "multihead@target": 0.97, "ddddocr": 0.99}
    runs = {"crnn_resnet@target": tmp_path / "a", "multihead@target": tmp_path / "b"}
    hardening.COMPETENT_NAMES.clear()
    hardening.COMPETENT_NAMES.update({"multihead@target", "ddddocr"})
    try:
        # ddddocr reads more, but has no checkpoint to retrain; crnn_resnet never learnt
        assert hardening.choose_update_attacker(ordinary, runs) == "multihead@target"
        hardening.COMPETENT_NAMES.clear()
        with pytest.raises(SystemExit, match="raise attacker_steps"):
            hardening.choose_update_attacker(ordinary, runs)
    finally:
        hardening.COMPETENT_NAMES.clear()


def test_another_target_gets_its_own_schemes_folder_and_report(tmp_path: Path) -> None:
    budget = hardening.target_budget(True, "hku4")
    assert budget.target == "hku4" and budget.mixed == "hku4+mix"
    assert [budget.training_scheme(t) for t in ("target", "mix")] == ["hku4", "hku4+mix"]
    assert hardening.run_name("hardening_updates", budget, True) == "hardening_updates_hku4_quick"
    default = hardening.target_budget(False, hardening.TARGET)
    assert hardening.run_name("hardening_updates", default, False) == "hardening_updates"
    images, texts = hardening.samples(budget.target, 1, 3)
    assert {im.size for im in images} == {(128, 48)} and all(len(t) == 4 for t in texts)
    with pytest.raises(KeyError, match="unknown scheme"):
        hardening.target_budget(True, "no_such_scheme")


def test_a_work_folder_of_another_target_is_refused(tmp_path: Path) -> None:
    hardening.claim_work(tmp_path / "w", "hku4")
    hardening.claim_work(tmp_path / "w", "hku4")  # the same target: reused
    with pytest.raises(SystemExit, match="holds models of scheme 'hku4'"):
        hardening.claim_work(tmp_path / "w", "merged4")


def test_update_protocols_include_the_rehearsed_variant() -> None:
    import hardening_updates

    budget = hardening.target_budget(True, "merged4")
    base = hardening_updates.protocols(budget)
    every = hardening_updates.protocol_settings(budget)
    assert tuple(base) == hardening_updates.PROTOCOLS
    for name, plan in hardening_updates.REHEARSED.items():
        # a rehearsed protocol hardens like its source, with at most a lower L-inf budget
        source = base[plan.source]
        expected = source if plan.linf is None else replace(source, linf=plan.linf)
        assert every[name] == expected and plan.size in ("query", "train")
        assert plan.linf is None or plan.linf < source.linf
    assert any(plan.linf is not None for plan in hardening_updates.REHEARSED.values())


def test_shadows_are_restored_from_rounds_saved_before_and_after_several_shadows() -> None:
    import hardening_updates as hu

    assert hu.saved_shadows({"shadow": "w/p_shadow_2"}) == [Path("w/p_shadow_2")]
    assert hu.saved_shadows({"shadow": "", "shadows": []}) == []
    both = {"shadow": "w/a", "shadows": ["w/a", "w/b"]}
    assert hu.saved_shadows(both) == [Path("w/a"), Path("w/b")]
    # the first shadow keeps the single-shadow protocol's folder names; others get their own
    assert hu.shadow_name("p", 0, 3) == "p_shadow_3"
    assert len({hu.shadow_name("p", i, r) for i in range(3) for r in range(1, 4)}) == 9


def test_every_shadow_recipe_exists() -> None:
    import hardening_updates as hu

    recipes = {r for plan in hu.REHEARSED.values() for r in plan.shadows}
    assert hu.SUBSTITUTE_RECIPE in recipes and len(recipes) >= 2
    for recipe in recipes:
        assert (hardening.EXPERIMENTS / recipe).is_file(), recipe


def test_the_linf_sweep_refuses_a_protocol_without_finished_rounds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import hardening_linf_sweep as sweep

    with pytest.raises(SystemExit):
        sweep.main(["--work", str(tmp_path), "--protocol", "glyph_combined_shadows3"])
    assert "no finished rounds of glyph_combined_shadows3" in capsys.readouterr().err
    (tmp_path / "rounds").mkdir()
    (tmp_path / "rounds" / "glyph_combined_shadows3.json").write_text("[]")
    with pytest.raises(SystemExit):
        sweep.main(
            ["--work", str(tmp_path), "--protocol", "glyph_combined_shadows3", "--linf", "0"]
        )
    assert "above 0" in capsys.readouterr().err
