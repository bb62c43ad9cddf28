"""The suite's own machinery: conftest.made_once, which the session's shared trees use."""
import pytest

from conftest import made_once


def test_made_once_makes_a_folder_once_and_keeps_it(tmp_path_factory):
    calls = []

    def make(folder):
        calls.append(folder)
        (folder / "made.txt").write_text("once")

    first = made_once(tmp_path_factory, "made_once_probe", make)
    second = made_once(tmp_path_factory, "made_once_probe", make)
    assert first == second and len(calls) == 1
    assert (first / "made.txt").read_text() == "once"


def test_a_failed_make_leaves_nothing_and_the_next_ask_tries_again(tmp_path_factory):
    def broken(folder):
        (folder / "half.txt").write_text("half")
        raise RuntimeError("broken on purpose")

    with pytest.raises(RuntimeError):
        made_once(tmp_path_factory, "made_once_failing", broken)
    folder = made_once(tmp_path_factory, "made_once_failing", lambda f: (f / "whole.txt").write_text("x"))
    assert sorted(p.name for p in folder.iterdir()) == ["whole.txt"]
