"""bench/results.md: each benchmark rewrites its own section and leaves the others as they were."""

from __future__ import annotations

from bench.results_file import markers, write_section


def test_a_section_is_replaced_in_place_and_a_new_one_appended(tmp_path):
    results = tmp_path / "results.md"
    write_section("bench_a", "## A\nfirst", results)
    write_section("bench_b", "## B\nkept", results)
    write_section("bench_a", "## A\nsecond", results)
    text = results.read_text(encoding="utf-8")
    start_a, end_a = markers("bench_a")
    assert text.count(start_a) == 1 and "first" not in text
    assert text.index(start_a) < text.index("second") < text.index(end_a) < text.index("kept")
    assert text.startswith("# Benchmark results\n")
