"""gui.session.Session with hostile settings files: never a traceback, never a hang, never a bad value
written back; each bad entry named and replaced by its default."""
import json
import os
import threading

import pytest
from hypothesis import HealthCheck, given, settings as hyp_settings
from hypothesis import strategies as st

from core.settings import Settings
from gui.session import MAX_BYTES, MAX_LAYOUT_CHARS, Session

DEFAULTS = Settings().to_dict()


def write(tmp_path, state):
    (tmp_path / "settings.json").write_text(state if isinstance(state, str) else json.dumps(state))
    return Session(tmp_path)


def load_in_time(session, seconds=5):
    """Session.load() in a thread, failing the test if it blocks (a FIFO would)."""
    result = []
    worker = threading.Thread(target=lambda: result.append(session.load()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "Session.load() blocked"
    return result[0]


def test_a_good_file_round_trips(tmp_path):
    session = Session(tmp_path)
    session.save(Settings(lr=0.25, hidden=(12,)), "/data/mnist", "AAAA", "")
    state, problem = session.load()
    assert problem == ""
    assert state == {"settings": {**DEFAULTS, "lr": 0.25, "hidden": [12]}, "data_path": "/data/mnist",
                     "window_geometry": "AAAA", "window_state": ""}
    session.save({**DEFAULTS, "delay_ms": 100})                 # a plain dict works too
    assert session.load()[0]["settings"]["delay_ms"] == 100


@pytest.mark.parametrize("entry, named", [
    ({"lr": "abc"}, "lr must be a finite number (positive and at most 1000), not 'abc'; using 0.1"),
    ({"delay_ms": "x"}, "delay_ms must be a whole number from 0 to 5000"),
    ({"hidden": [0]}, "hidden must be a list of layer sizes"),
    ({"hidden": [100000000]}, "hidden must be a list of layer sizes"),
    ({"seed": -1}, "seed must be a whole number from 0"),
    ({"cost": "mse"}, "cost must be one of"),
    ({"momentum": 1.5}, "momentum must be at least 0 and below 1"),
    ({"colour": "red"}, "unknown setting 'colour' ignored"),
])
def test_each_bad_setting_is_named_and_replaced_by_its_default(tmp_path, entry, named):
    session = write(tmp_path, {"settings": {"lr": 0.3, **entry}})
    state, problem = session.load()
    assert named in problem and "\n" not in problem and problem.endswith(".")
    key = next(iter(entry))
    assert state["settings"] == {**DEFAULTS, "lr": 0.3 if key != "lr" else 0.1}


@pytest.mark.parametrize("state, named", [
    ({"settings": [1, 2]}, "expected an object of settings, not list"),
    ({"settings": None}, "expected an object of settings, not NoneType"),
    ({"window_geometry": 5}, "window_geometry must be base64 text, not int"),
    ({"window_state": "not base64 !"}, "window_state is not base64 text"),
    ({"window_state": "A" * (MAX_LAYOUT_CHARS + 4)}, "window_state is 65,540 characters"),
    ({"data_path": 3}, "data_path must be a path or null, not 3"),
    ({"data_path": ["x"]}, "data_path must be a path or null"),
])
def test_bad_entries_beside_the_settings_are_dropped_and_named(tmp_path, state, named):
    loaded, problem = write(tmp_path, state).load()
    assert named in problem
    assert loaded["settings"] == DEFAULTS
    for key in ("window_geometry", "window_state", "data_path"):
        assert key not in loaded or key not in state


@pytest.mark.parametrize("text, named", [
    ("{ not json", "could not be read"),
    ("[1, 2]", "not a JSON object but list"),
    ("[" * 100_000 + "]" * 100_000, "could not be read"),
    ('{"settings": ' + "{\"a\": " * 50_000 + "1" + "}" * 50_001, "could not be read"),
    ('{"settings": {"seed": 1' + "0" * 5000 + "}}", "could not be read"),
])
def test_unusable_files_give_defaults_and_one_sentence(tmp_path, text, named):
    state, problem = write(tmp_path, text).load()
    assert state == {} and named in problem and "using defaults" in problem and "\n" not in problem


def test_a_fifo_a_folder_and_a_huge_file_are_refused_without_reading(tmp_path):
    os.mkfifo(tmp_path / "settings.json")
    state, problem = load_in_time(Session(tmp_path))
    assert state == {} and "not a regular file" in problem
    other = tmp_path / "other"
    (other / "settings.json").mkdir(parents=True)
    assert "is a folder" in load_in_time(Session(other))[1]
    big = tmp_path / "big"
    big.mkdir()
    with open(big / "settings.json", "wb") as f:
        f.truncate(MAX_BYTES + 1)
    assert "more than the 1.0 MB a settings file may have" in load_in_time(Session(big))[1]


def test_a_fifo_model_file_is_refused_without_opening(tmp_path):
    os.mkfifo(tmp_path / "session-model.npz")
    result = []
    worker = threading.Thread(target=lambda: result.append(Session(tmp_path).load_model()), daemon=True)
    worker.start()
    worker.join(5)
    assert not worker.is_alive() and result[0][0] is None and "not a regular file" in result[0][1]


def test_many_problems_stay_one_short_sentence(tmp_path):
    state, problem = write(tmp_path, {"settings": {f"k{i}": i for i in range(10_000)}}).load()
    assert state["settings"] == DEFAULTS and "and 9988 more" in problem and len(problem) < 1000


def test_bad_values_are_never_written_back(tmp_path):
    session = Session(tmp_path)
    session.save({**DEFAULTS, "lr": "abc", "hidden": [0], "seed": -1, "extra": 1}, 3, 5, "not base64 !")
    written = json.loads((tmp_path / "settings.json").read_text())
    assert written == {"settings": DEFAULTS, "data_path": None, "window_geometry": "", "window_state": ""}
    assert session.load() == (written, "")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)
state_keys = st.sampled_from(["settings", "data_path", "window_geometry", "window_state"]) | st.text(max_size=6)
setting_keys = st.sampled_from(list(DEFAULTS)) | st.text(max_size=6)


@hyp_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(state=json_values | st.dictionaries(state_keys, json_values, max_size=5)
       | st.fixed_dictionaries({"settings": st.dictionaries(setting_keys, json_values, max_size=9)}))
def test_fuzzed_session_files_load_to_valid_state(tmp_path, state):
    session = write(tmp_path, state)
    loaded, problem = session.load()
    assert isinstance(problem, str) and "\n" not in problem
    if loaded:
        assert Settings.from_mapping(loaded["settings"]).to_dict() == loaded["settings"]
        session.save(loaded["settings"], loaded.get("data_path"), loaded.get("window_geometry", ""),
                     loaded.get("window_state", ""))
        assert session.load()[1] == ""               # what was kept is clean when written again


def test_a_kept_network_must_be_one_the_settings_allow(tmp_path):
    from core.checkpoint import save_model
    from core.network import Network
    session = Session(tmp_path)
    session.save_model(Network([784, 16, 10]), {})
    net, problem = session.load_model()
    assert net.sizes == (784, 16, 10) and problem == ""
    save_model(session.model_path, Network([784, 800, 800, 10]), {})      # the loader's limits allow it
    net, problem = session.load_model()
    assert net is None and "at most 1024 neurons in all" in problem
    session.model_path.write_bytes(b"garbage")
    net, problem = session.load_model()
    assert net is None and "could not be loaded" in problem and "\n" not in problem
