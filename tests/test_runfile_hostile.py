"""Run files as a hostile user writes them: FIFOs, huge files, deep nesting, wrong types; all one line."""
import json
import os
import threading

import pytest
from hypothesis import HealthCheck, given, settings as hyp_settings
from hypothesis import strategies as st

from core.runfile import FORMAT, MAX_BYTES, RunFileError, load_run, save_run
from core.settings import Settings

GOOD = {"hidden": [8], "activation": "tanh", "cost": "cross-entropy", "seed": 3,
        "lr": 0.2, "momentum": 0.5, "l2": 0.0, "batch_size": 50}


def refused(path, match):
    with pytest.raises(RunFileError, match=match) as info:
        load_run(path)
    assert "\n" not in str(info.value) and len(str(info.value)) < 400
    return str(info.value)


def test_a_fifo_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "run.json"
    os.mkfifo(fifo)
    result = {}
    worker = threading.Thread(target=lambda: result.update(text=refused(fifo, "not a regular file")), daemon=True)
    worker.start()
    worker.join(5)
    assert not worker.is_alive(), "load_run blocked on a FIFO"
    assert str(fifo) in result["text"]


def test_a_folder_and_a_huge_file_are_refused(tmp_path):
    refused(tmp_path, "is a folder")
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(MAX_BYTES + 1)          # sparse: no disk needed
    refused(big, "more than the 1.0 MB a run file may have")


def test_deep_nesting_and_bad_text_are_one_line(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    refused(deep, "not valid JSON")
    deep.write_text('{"format": "%s", "settings": %s}' % (FORMAT, "[" * 100_000 + "]" * 100_000))
    refused(deep, "not valid JSON|expected an object")
    huge = tmp_path / "huge.json"
    huge.write_text('{"format": "%s", "settings": {"seed": 1%s}}' % (FORMAT, "0" * 5000))
    refused(huge, "not valid JSON")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    refused(binary, "not UTF-8")


@pytest.mark.parametrize("settings, message", [
    ({**GOOD, "lr": "abc"}, "lr must be a finite number (positive and at most 1000), not 'abc'"),
    ({**GOOD, "hidden": [100000000]}, "hidden must be a list of layer sizes"),
    ({**GOOD, "seed": 10**400}, "seed must be a whole number from 0 to 2147483647"),
    ({**GOOD, "momentum": 1.5}, "momentum must be at least 0 and below 1"),
    ({**GOOD, "delay_ms": 5}, "unknown setting 'delay_ms'"),
    ({**GOOD, "settings": {"x": [1] * 100_000}}, "unknown setting 'settings'"),
])
def test_bad_settings_say_the_same_as_everywhere(tmp_path, settings, message):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"format": FORMAT, "settings": settings, "data_path": None}))
    text = refused(path, "must be|unknown")
    assert message in text and text.startswith(f"{path}: settings: ")


def test_save_takes_a_settings_object_and_refuses_bad_values_before_writing(tmp_path):
    path = save_run(tmp_path / "run.json", Settings(hidden=(8,), delay_ms=100), None)
    assert load_run(path)[0] == {**Settings().run_dict(), "hidden": [8]}
    with pytest.raises(RunFileError, match="seed must be"):
        save_run(tmp_path / "bad.json", {**GOOD, "seed": -1}, None)
    assert not (tmp_path / "bad.json").exists() and list(tmp_path.glob("*.part")) == []


def test_data_path_with_a_nul_is_refused(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"format": FORMAT, "settings": GOOD, "data_path": "a\0b"}))
    refused(path, "data_path must be a path or null")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


@hyp_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(settings=st.dictionaries(st.sampled_from(list(GOOD)) | st.text(max_size=6), json_values, max_size=9),
       data_path=json_values)
def test_fuzzed_run_files_load_or_give_one_line(tmp_path, settings, data_path):
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps({"format": FORMAT, "settings": {**GOOD, **settings}, "data_path": data_path}))
    try:
        loaded, _ = load_run(path)
    except RunFileError as e:
        assert "\n" not in str(e) and len(str(e)) < 600
    else:
        assert Settings.from_mapping(loaded).run_dict() == loaded
