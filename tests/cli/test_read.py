"""The reading commands (hpsearch.cli.read): studies, trials, spaces; they never write."""

from __future__ import annotations

import json


def test_listing_commands_never_create_a_store(cli, tmp_path) -> None:
    for args in (("studies",), ("trials", "x"), ("best", "x")):
        r = cli(*args)
        assert r.code == 1 and "no such database file" in r.err
    assert not (tmp_path / "hpsearch.db").exists()


def test_unknown_study_lists_the_known_ones(cli, study_file) -> None:
    text = (
        'name = "known"\nspace = "lstm_dropout"\nbaseline = false\n'
        "[dataset]\nsamples = 60\nnum_words = 60\nmaxlen = 6\n"
        "[selection]\nfinalists = 0\n"
        "[budget]\nn_trials = 1\nmax_epochs = 1\n[ranges]\nlstm_units = {low = 16, high = 18}\n"
        "batch_size = [32]\n"
    )
    assert cli("run", str(study_file(text))).code == 0
    r = cli("trials", "unknown")
    assert r.code == 1 and r.err.strip() == (
        "hpsearch: error: no study 'unknown' in sqlite:///hpsearch.db; studies there: known"
    )


def test_names_with_brackets_print_as_written(cli, study_file) -> None:
    for name in ("x[/]y", "cnn[sweep]"):
        text = (
            f'name = {json.dumps(name)}\nspace = "lstm_dropout"\nbaseline = false\n'
            "[dataset]\nsamples = 60\nnum_words = 60\nmaxlen = 6\n[selection]\nfinalists = 0\n"
            "[budget]\nn_trials = 1\nmax_epochs = 1\n[ranges]\nbatch_size = [32]\n"
        )
        assert cli("run", str(study_file(text))).code == 0
    listed = cli("studies")
    assert listed.code == 0, listed.err
    assert "x[/]y" in listed.out and "cnn[sweep]" in listed.out
    assert "cnn[sweep]" in cli("trials", "cnn[sweep]").out


def test_spaces_lists_parameters_derived_from_suggest(cli) -> None:
    r = cli("spaces")
    assert r.code == 0
    for name in (
        "lstm_dropout",
        "lstm_l1l2",
        "cnn_lstm",
        "recurrent_dropout",
        "kernel_l2",
        "filters",
    ):
        assert name in r.out
    assert "[1e-06, 0.1] log" in r.out
