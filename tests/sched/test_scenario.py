"""Scenario TOML: shipped files validate; bad input names the file and field; CLI exit 2."""

import re
import subprocess
import sys

import pytest

from mmsched.sched.errors import InputError
from mmsched.sched.scenario import builtin_scenario_names, find_scenario, load_scenario_file

GOOD = """
name = "t"
system = ["eyeriss_v2_like"]
rates = [2.0, 3]
samples = 4
profile_samples = 2
[[models]]
arch = "resnet50"
patterns = ["unstructured20", "nm2of4"]
"""


def write(tmp_path, text, name="s.toml"):
    f = tmp_path / name
    f.write_text(text)
    return f


def test_shipped_scenarios_validate():
    names = builtin_scenario_names()
    assert {"dysta-cnn", "dysta-attnn", "mixed"} <= set(names)
    cnn = find_scenario("dysta-cnn")
    assert len(cnn.model_list()) == 12 and cnn.system[0].name == "eyeriss_v2_like"
    assert {m.arch for m in cnn.model_list()} == {"resnet50", "vgg16", "mobilenetv1", "ssd300"}
    att = find_scenario("dysta-attnn")
    assert att.system[0].name == "sanger_like" and len(att.model_list()) == 3
    assert cnn.heldout_samples and set(cnn.heldout_samples).isdisjoint(cnn.profiling_samples)


def test_good_file_and_inline_accelerator(tmp_path):
    sc = load_scenario_file(write(tmp_path, GOOD))
    assert sc.rates == (2.0, 3.0) and [m.key for m in sc.model_list()] == [
        "resnet50_unstructured20", "resnet50_nm2of4"]
    text = GOOD.replace('system = ["eyeriss_v2_like"]',
                        'system = [{base = "sanger_like", rows = 32}, "eyeriss_v2_like"]')
    sc = load_scenario_file(write(tmp_path, text))
    assert sc.system[0].rows == 32 and sc.system[0].cols == 64 and len(sc.system) == 2


@pytest.mark.parametrize(("old", "new", "field", "expected"), [
    ('arch = "resnet50"', 'arch = "resnet51"', r"models\[0\]\.arch", "a zoo model"),
    ('name = "t"\n', "", "name", "a field 'name'"),
    ('system = ["eyeriss_v2_like"]\n', "", "system", "a field 'system'"),
    ("rates = [2.0, 3]", 'rates = [2.0, "3"]', r"rates\[1\]", "a finite number"),
    ("rates = [2.0, 3]", "rates = [2.0, -3]", r"rates\[1\]", "a number > 0"),
    ("samples = 4", "samples = 4.5", "samples", "an integer"),
    ('"nm2of4"', '"nm5of4"', r"models\[0\]\.patterns\[1\]", "a weight pattern"),
    ('system = ["eyeriss_v2_like"]', 'system = ["tpu"]', r"system\[0\]", "an accelerator"),
    ('system = ["eyeriss_v2_like"]', "system = [{rows = 0}]", r"system\[0\]\.rows",
     "a positive integer, found 0"),
    ('system = ["eyeriss_v2_like"]', "system = [{chunk_depth = 32}]", r"system\[0\]",
     "a valid accelerator configuration, found chunk_depth 32 is larger"),
    ("samples = 4", "samples = 4\nsample = 3", "sample", "a scenario field"),
    ("profile_samples = 2", "profile_samples = 4", "profile_samples", "an integer < samples"),
    ("rates = [2.0, 3]", "rates = [3.0, 3]", "rates", "distinct values"),
    ("rates = [2.0, 3]", "rates = [2.0, 3]\nslos = [10.0, 10]", "slos", "distinct values"),
    ("samples = 4", "samples = 4\nseeds = 0", "seeds", "a number > 0"),
    ('name = "t"', 'name = "t"\nsource = "csv"', "source", "one of"),
])
def test_bad_scenarios(tmp_path, old, new, field, expected):
    assert old in GOOD
    f = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(InputError, match=f"s.toml: {field}: expected {expected}"):
        load_scenario_file(f)


SYNTHETIC = """
name = "syn"
source = "synthetic"
synthetic = "attnn"
rates = [20.0]
seeds = 2
"""


CLOCK = r"a number of Hz in \[1000, 1e\+12\] \(MIN_CLOCK_HZ, MAX_CLOCK_HZ\)"


@pytest.mark.parametrize(("system", "field", "expected"), [
    ("[{clock_hz = inf}]", r"system\[0\]\.clock_hz", CLOCK + ", found inf$"),
    ("[{clock_hz = -inf}]", r"system\[0\]\.clock_hz", CLOCK + ", found -inf$"),
    ("[{clock_hz = nan}]", r"system\[0\]\.clock_hz", CLOCK + ", found nan$"),
    ("[{clock_hz = 0}]", r"system\[0\]\.clock_hz", CLOCK + ", found 0$"),
    ("[{clock_hz = -2e8}]", r"system\[0\]\.clock_hz", CLOCK + ", found -200000000.0$"),
    ("[{clock_hz = 999.0}]", r"system\[0\]\.clock_hz", CLOCK + ", found 999.0$"),
    ('["eyeriss_v2_like", {base = "sanger_like", clock_hz = 1e20}]',
     r"system\[1\]\.clock_hz", CLOCK + r", found 1e\+20$"),
    ("[{clock_hz = 10000000000000}]", r"system\[0\]\.clock_hz", CLOCK + ", found 10000000000000$"),
    ('[{clock_hz = "2e8"}]', r"system\[0\]\.clock_hz", CLOCK + ", found '2e8'$"),
    ("[{clock_hz = true}]", r"system\[0\]\.clock_hz", CLOCK + ", found True$"),
    ("[{name = 3}]", r"system\[0\]\.name", "a string, found 3$"),
    ('[{base = "sanger_like", name = 3.5}]', r"system\[0\]\.name", "a string, found 3.5$"),
    ('[{name = ["a"]}]', r"system\[0\]\.name", r"a string, found \['a'\]$"),
    ("[{rows = true}]", r"system\[0\]\.rows", "a positive integer, found True$"),
    ("[{cols = 4.0}]", r"system\[0\]\.cols", "a positive integer, found 4.0$"),
    ("[{dense = 1}]", r"system\[0\]\.dense", "a bool, found 1$"),
])
def test_bad_accelerator_fields_name_the_file_and_field(tmp_path, system, field, expected):
    """The accelerator's own checks (`AcceleratorConfig`), told as the file's field."""
    f = write(tmp_path, GOOD.replace('["eyeriss_v2_like"]', system))
    with pytest.raises(InputError, match=f"^{re.escape(str(f))}: {field}: expected {expected}"):
        load_scenario_file(f)


def test_bad_accelerator_of_a_system_variant(tmp_path):
    f = write(tmp_path, GOOD + '[variants]\nfast = [{base = "sanger_like", clock_hz = inf}]\n')
    with pytest.raises(InputError, match=r"s.toml: variants\.fast\[0\]\.clock_hz: expected "
                                         + CLOCK + ", found inf$"):
        load_scenario_file(f)


def test_clock_bounds_and_int_clock_accepted(tmp_path):
    for clock, want in (("1000", 1000), ("1e12", 1e12), ("1000000000", 1e9)):
        f = write(tmp_path, GOOD.replace('["eyeriss_v2_like"]', f"[{{clock_hz = {clock}}}]"))
        assert load_scenario_file(f).clock_hz == want


def test_synthetic_scenario_is_data(tmp_path):
    sc = load_scenario_file(write(tmp_path, SYNTHETIC))
    assert (sc.source, sc.synthetic, sc.rates, sc.seeds) == ("synthetic", "attnn", (20.0,), 2)
    assert sc.system[0].name == "sanger_like" and sc.models == ()
    for extra, field in (('system = ["eyeriss_v2_like"]', "system"),
                         ('[[models]]\narch = "resnet50"', "models"),
                         ('arrivals = "periodic"', "arrivals")):
        with pytest.raises(InputError, match=f"s.toml: {field}: "):
            load_scenario_file(write(tmp_path, SYNTHETIC.replace("seeds = 2", extra)))
    with pytest.raises(InputError, match="s.toml: synthetic: expected a synthetic set"):
        load_scenario_file(write(tmp_path, SYNTHETIC.replace('"attnn"', '"rnn"')))


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="expected TOML"):
        load_scenario_file(write(tmp_path, "name = [\n"))
    with pytest.raises(InputError, match="nope.toml"):
        find_scenario(str(tmp_path / "nope.toml"))
    with pytest.raises(InputError, match="dysta-cnn"):
        find_scenario("no-such-scenario")


def test_cli_bad_scenario_one_error_line_exit_2(tmp_path):
    f = write(tmp_path, GOOD.replace("rates = [2.0, 3]", "rates = [-1]"))
    p = subprocess.run([sys.executable, "-m", "mmsched.sim", "scenarios", str(f), "--no-load"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "error:" in lines[0] and "rates[0]" in lines[0]
    assert "s.toml" in lines[0] and not p.stdout


def test_cli_lists_shipped_scenarios(tmp_path):
    p = subprocess.run([sys.executable, "-m", "mmsched.sim", "scenarios", "--no-load"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    for name in ("dysta-cnn", "dysta-attnn", "mixed"):
        assert name in p.stdout


PERIODIC = """
name = "p"
arrivals = "periodic"
duration_s = 1.0
system = ["sanger_like"]
[variants]
"two" = ["sanger_like", {base = "sanger_like", rows = 32}]
[[models]]
arch = "xres"
fps = 60.0
[[models]]
arch = "xrge"
fps = 30.0
after = "xres"
probability = 0.5
[[models]]
arch = "xrht"
fps = 45.0
"""


def test_frames_deadlines_cascades_and_determinism(tmp_path):
    from mmsched.sched.streams import frame_requests

    sc = load_scenario_file(write(tmp_path, PERIODIC))
    keys = {e.arch: [f"{e.arch}_dense"] for e in sc.models}
    clock = 1e9
    reqs = frame_requests(sc, keys=keys, samples=3, clock_hz=clock, seed=5)
    by = {}
    for r in reqs:
        by.setdefault(r.model, []).append(r)
    assert len(by["xres_dense"]) == 60 and len(by["xrht_dense"]) == 45
    assert 5 <= len(by["xrge_dense"]) <= 25  # 30 frames kept with p = 0.5
    es = by["xres_dense"]
    # a frame's deadline is the next frame's arrival, exactly (also past the end of the run)
    assert [r.arrival for r in es] == [round(k / 60 * clock) for k in range(60)]
    assert [r.deadline for r in es] == [round((k + 1) / 60 * clock) for k in range(60)]
    assert {r.deadline - r.arrival for r in es} <= {16666666, 16666667}
    ids = {r.id: r for r in reqs}
    for g in by["xrge_dense"]:
        (dep,) = g.depends_on
        up = ids[dep]
        assert up.model == "xres_dense" and up.arrival <= g.arrival
        assert g.arrival - up.arrival < round(clock / 60)  # the latest upstream frame
    assert [r.id for r in reqs] == list(range(len(reqs)))
    assert all(a.arrival <= b.arrival for a, b in zip(reqs, reqs[1:], strict=False))
    assert {r.sample for r in reqs} <= {0, 1, 2}
    assert frame_requests(sc, keys=keys, samples=3, clock_hz=clock, seed=5) == reqs
    assert frame_requests(sc, keys=keys, samples=3, clock_hz=clock, seed=6) != reqs


def test_system_variants(tmp_path):
    f = write(tmp_path, PERIODIC)
    sc = find_scenario(f"{f}:two")
    assert len(sc.system) == 2 and sc.system[1].rows == 32 and sc.label == "p:two"
    with pytest.raises(InputError, match=r"system variants \(two\), found 'three'"):
        find_scenario(f"{f}:three")
    for name in ("xr-social-a", "xr-social-b", "xr-outdoor-a", "xr-outdoor-b", "xr-ar-gaming",
                 "xr-vr-gaming", "xr-ar-assistant"):
        base = find_scenario(name)
        assert base.arrivals == "periodic"
        assert [n for n, _ in base.variants] == ["4k", "2x2k", "3k+1k", "4x2k", "wide+square"]
        assert [c.rows * c.cols for c in find_scenario(f"{name}:3k+1k").system] == [3072, 1024]
        wide, square = find_scenario(f"{name}:wide+square").system
        assert (wide.rows, wide.cols, square.rows, square.cols) == (16, 256, 64, 64)
        assert wide.dense and square.dense
        # the same PEs, memory bytes and weight-load bandwidth: only the shape differs
        assert wide.pes == square.pes
        assert wide.wt_mem_words * wide.wt_word_bytes == square.wt_mem_words * \
            square.wt_word_bytes
        assert wide.out_mem_words * wide.out_word_bytes == square.out_mem_words * \
            square.out_word_bytes
        assert wide.act_mem_words * wide.rows == square.act_mem_words * square.rows
        assert wide.load_rows_per_cycle * wide.cols == square.load_rows_per_cycle * square.cols


def test_cascade_cycle_rejected(tmp_path):
    text = PERIODIC.replace('arch = "xres"\nfps = 60.0', 'arch = "xres"\nfps = 60.0\n'
                            'after = "xrge"')
    with pytest.raises(InputError, match=r"models\[0\]\.after: expected a cascade without"):
        load_scenario_file(write(tmp_path, text))


TOPO = ("Layer name,IFMAP Height,IFMAP Width,Filter Height,Filter Width,Channels,Num Filter,"
        "Strides,\nConv1,34,34,3,3,3,16,1,\nConv2,32,32,3,3,16,16,1,\n")


def test_models_from_topology_and_onnx_files(tmp_path):
    (tmp_path / "my_net.csv").write_text(TOPO)
    text = GOOD.replace('arch = "resnet50"', 'file = "my_net.csv"')
    sc = load_scenario_file(write(tmp_path, text))
    keys = [m.key for m in sc.model_list()]
    assert keys == ["mynet_unstructured20", "mynet_nm2of4"]
    m = sc.model_list()[0]
    assert (m.layers[0].m, m.layers[0].n, m.layers[0].k) == (32 * 32, 16, 27)
    assert m.layers[1].weight_pattern == "unstructured20" and sc.models[0].family == "cnn"


def test_cli_bad_model_files_one_error_exit_2(tmp_path):
    onnx = pytest.importorskip("onnx")
    helper = onnx.helper
    g = helper.make_graph([helper.make_node("LSTM", ["x", "w", "r"], ["y"], name="lstm1",
                                            hidden_size=4)], "g",
                          [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT,
                                                         [1, 1, 4])],
                          [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)])
    onnx.save(helper.make_model(g), str(tmp_path / "rnn.onnx"))
    (tmp_path / "bad.csv").write_text("Layer,M,N,K\nfc,12,x,4\n")
    for fname, expect in (("rnn.onnx", "rnn.onnx: graph.node: expected only MAC operators"),
                          ("bad.csv", "bad.csv: line 2, column N: expected a positive"),
                          ("net.pt", "s.toml: models[0].file: expected an .onnx model")):
        write(tmp_path, GOOD.replace('arch = "resnet50"', f'file = "{fname}"'))
        p = subprocess.run([sys.executable, "-m", "mmsched.sim", "scenarios", "s.toml",
                            "--no-load"], capture_output=True, text=True, cwd=tmp_path)
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 2 and len(lines) == 1 and not p.stdout, p.stderr
        assert expect in lines[0], lines[0]
        if fname == "rnn.onnx":
            assert "LSTM x1 (lstm1)" in lines[0]


SUPERNET = """
name = "sn"
system = ["sanger_like"]
[[models]]
arch = "hrvitb3"
patterns = ["dense", "nm2of4"]
"""


def test_supernet_subnets_from_the_zoo_and_listed(tmp_path):
    sc = load_scenario_file(write(tmp_path, SUPERNET + 'subnets = "zoo"\n'))
    keys = {m.key: m for m in sc.model_list()}
    big = keys["hrvitb3_dense"]
    assert big.variants == ("hrvitb2_dense", "hrvitb1_dense") and big.accuracy == 50.20
    assert keys["hrvitb3_nm2of4"].variants == ("hrvitb2_nm2of4", "hrvitb1_nm2of4")
    assert keys["hrvitb1_nm2of4"].arch == "hrvitb1" and keys["hrvitb1_dense"].accuracy == 45.88
    assert "arXiv 2111.01236" in keys["hrvitb2_dense"].accuracy_source
    assert sc.models[0].archs == ("hrvitb3", "hrvitb2", "hrvitb1")
    listed = SUPERNET + ('accuracy = 50.2\naccuracy_source = "paper"\n'
                         'subnets = [{arch = "hrvitb1", accuracy = 45.88, source = "paper"}]\n')
    sc = load_scenario_file(write(tmp_path, listed))
    assert sc.model_list()[0].variants == ("hrvitb1_dense",)


@pytest.mark.parametrize("extra, field, expected", [
    ('subnets = [{arch = "hrvitb1", source = "x"}]\naccuracy = 50.2\naccuracy_source = "x"\n',
     r"models\[0\]\.subnets\[0\]\.accuracy", "a number: the published accuracy"),
    ('subnets = [{arch = "hrvitb1", accuracy = 45.9}]\naccuracy = 50.2\naccuracy_source = "x"\n',
     r"models\[0\]\.subnets\[0\]\.source", "a non-empty string"),
    ('subnets = [{arch = "hrvitb1", accuracy = 45.9, source = "x"}]\n',
     r"models\[0\]\.accuracy", "a number: the published accuracy"),
    ('subnets = [{arch = "nope", accuracy = 45.9, source = "x"}]\n',
     r"models\[0\]\.subnets\[0\]\.arch", "a zoo model"),
    ('subnets = [{arch = "hrvitb1", accuracy = 145, source = "x"}]\naccuracy = 50.2\n'
     'accuracy_source = "x"\n', r"models\[0\]\.subnets\[0\]\.accuracy", "an accuracy in"),
    ('subnets = "zoo"\n[[models]]\narch = "hrvitb1"\n',
     r"models\[0\]\.subnets\[1\]\.arch", "an arch that is no other"),
])
def test_bad_supernets(tmp_path, extra, field, expected):
    with pytest.raises(InputError, match=f"s.toml: {field}: expected {expected}"):
        load_scenario_file(write(tmp_path, SUPERNET + extra))
    with pytest.raises(InputError, match=r"subnets: expected a list of sub-networks \('zoo' "):
        load_scenario_file(write(tmp_path, SUPERNET.replace("hrvitb3", "xrkd")
                                 + 'subnets = "zoo"\n'))


def test_cascade_frames_follow_their_upstream_schedule(tmp_path):
    from mmsched.sched.streams import periodic_frames

    text = PERIODIC.replace('arch = "xrht"\nfps = 45.0', 'arch = "xrht"\nfps = 60.0\n'
                            'after = "xrge"\nprobability = 1.0')
    sc = load_scenario_file(write(tmp_path, text))
    keys = {e.arch: [f"{e.arch}_dense"] for e in sc.models}
    reqs, index = periodic_frames(sc, keys=keys, samples=3, clock_hz=1e9, seed=2)
    ids = {r.id: r for r in reqs}
    ge = {r.arrival: r for r in reqs if r.model == "xrge_dense"}
    ht = [r for r in reqs if r.model == "xrht_dense"]
    # xrht (60 fps, p = 1) after xrge (30 fps, p = 0.5): an xrht frame runs exactly when the
    # latest xrge frame time before it holds a frame, and then depends on that frame
    ge_times = [round(k / 30 * 1e9) for k in range(30)]
    expected = 0
    for k in range(60):
        t = round(k / 60 * 1e9)
        latest = max(g for g in ge_times if g <= t)
        expected += latest in ge
    assert len(ht) == expected and 0 < expected < 60
    for h in ht:
        (dep,) = h.depends_on
        assert ids[dep].model == "xrge_dense"
        assert ids[dep].arrival == max(g for g in ge_times if g <= h.arrival)
    assert len(index) == len(reqs)
    scaled, _ = periodic_frames(sc, keys=keys, samples=3, clock_hz=1e9, seed=2, fps_scale=2.0)
    assert sum(r.model == "xres_dense" for r in scaled) == 120
    with pytest.raises(ValueError, match="fps_scale must be a positive number"):
        periodic_frames(sc, keys=keys, samples=3, clock_hz=1e9, seed=2, fps_scale=0.0)


def test_transfer_table(tmp_path):
    from mmsched.sched.transfer import TransferCost

    sc = load_scenario_file(write(tmp_path, PERIODIC))
    assert sc.transfer == TransferCost(16e9, 325.0)
    sc = load_scenario_file(write(tmp_path, PERIODIC + "[transfer]\nbandwidth_gb_s = 8\n"
                                  "pj_per_byte = 100\n"))
    assert sc.transfer == TransferCost(8e9, 100.0)
    for bad, match in (("bandwidth_gb_s = 0", r"transfer\.bandwidth_gb_s: expected a number > 0"),
                       ("pj_per_byte = -1", r"transfer\.pj_per_byte: expected a number >= 0"),
                       ("bandwidth = 3", r"transfer\.bandwidth: expected a transfer field"),
                       ("bandwidth_gb_s = \"fast\"", r"transfer\.bandwidth_gb_s: expected a "
                                                     r"finite number")):
        with pytest.raises(InputError, match=match):
            load_scenario_file(write(tmp_path, PERIODIC + f"[transfer]\n{bad}\n"))
