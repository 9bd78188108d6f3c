"""calc fit: every mode and order recovers known parameters; seeds make runs repeatable;
bad input gives a clear message, exit 2 and nothing on stdout."""
import json
import math
import os
import random
from pathlib import Path

import pytest

from calccli.commands.fit import fit_model, substitute
from calccli.commands.fit_loss import Data, SampleLoss

ROOT = Path(__file__).resolve().parent.parent
LINE = str(ROOT / "examples" / "line.csv")
LOGISTIC = str(ROOT / "examples" / "logistic.csv")
LOGLOSS = "-(label*log(yhat) + (1-label)*log(1-yhat))"


@pytest.fixture
def exact(tmp_path):
    """40 noise-free samples of y = 3x - 2 on [-1, 1]."""
    p = tmp_path / "exact.csv"
    xs = [-1 + 2 * i / 39 for i in range(40)]
    p.write_text("x,y\n" + "".join(f"{x!r},{3 * x - 2!r}\n" for x in xs))
    return str(p)


def cells(path):
    """The data rows of a CSV file as text (the standard library's reader, independent of calc's)."""
    import csv
    with open(path, newline="") as f:
        return list(csv.reader(f))[1:]


def fit(path, model="w*x + b", target="y", mode="batch", batch_size=8, order="fixed", epochs=100, lr=0.05,
        seed=0, init=None, loss=None, compare=False):
    return fit_model(model, path, target, mode, batch_size, order, epochs, lr, seed, init, loss, compare)


SETTINGS = {"batch": (0.3, 300), "online": (0.05, 80), "minibatch": (0.2, 150)}


@pytest.mark.parametrize("order", ["fixed", "shuffle", "sample"])
@pytest.mark.parametrize("mode", ["batch", "online", "minibatch"])
def test_every_mode_recovers_known_parameters(exact, mode, order):
    lr, epochs = SETTINGS[mode]
    r = fit(exact, mode=mode, order=order, lr=lr, epochs=epochs)
    w, b = r.run.theta
    assert w == pytest.approx(3, abs=1e-5) and b == pytest.approx(-2, abs=1e-5)
    assert r.run.loss < 1e-10
    assert len(r.run.history) == epochs
    assert r.exit_code == 0


def test_update_counts(exact):
    # 40 samples: batch 1 update per epoch, online 40, mini-batches of 16 → 16 + 16 + 8 = 3
    assert fit(exact, mode="batch", epochs=5).run.updates == 5
    assert fit(exact, mode="online", epochs=5).run.updates == 200
    assert fit(exact, mode="minibatch", batch_size=16, epochs=5).run.updates == 15
    assert fit(exact, mode="online", order="sample", epochs=5).run.updates == 200


def test_batch_mode_reaches_the_least_squares_solution():
    """On the noisy line the batch fit converges to the closed-form least-squares answer."""
    rows = cells(LINE)
    xs = [float(r[0]) for r in rows]
    ys = [float(r[1]) for r in rows]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    w = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    b = my - w * mx
    r = fit(LINE, epochs=300, lr=0.2)
    assert r.run.theta == pytest.approx([w, b], abs=1e-9)
    assert w == pytest.approx(2, abs=0.05) and b == pytest.approx(1, abs=0.05)   # y = 2x + 1 + noise


def test_batch_history_is_the_mean_loss():
    r = fit(LINE, epochs=3)
    rows = cells(LINE)
    w, b = r.run.snapshots[2]                 # θ after epoch 2, whose J is history[1]
    J = math.fsum((w * float(x) + b - float(y)) ** 2 for x, y in rows) / len(rows)
    assert r.run.history[1] == pytest.approx(J, rel=1e-14)


def test_first_batch_step_is_minus_lr_times_mean_gradient():
    rows = cells(LINE)
    xs = [float(r[0]) for r in rows]
    ys = [float(r[1]) for r in rows]
    n = len(xs)
    gw = sum(2 * (0 - y) * x for x, y in zip(xs, ys)) / n
    gb = sum(2 * (0 - y) for y in ys) / n
    r = fit(LINE, epochs=1, lr=0.05)
    assert r.run.theta == pytest.approx([-0.05 * gw, -0.05 * gb], rel=1e-12)


def test_logistic_regression_with_logistic_loss():
    r = fit(LOGISTIC, model="sigmoid(w*x + b)", target="label", loss=LOGLOSS, lr=1.5, epochs=200)
    w, b = r.run.theta
    # the data were drawn from P(label = 1 | x) = sigmoid(2x - 1) (examples/make_data.py)
    assert w == pytest.approx(2, abs=0.35) and b == pytest.approx(-1, abs=0.35)
    assert r.run.loss < r.run.initial_loss == pytest.approx(math.log(2))
    # at the optimum the gradient of the mean loss is (nearly) zero: compare with calc's minimize
    from calccli.commands.optimize import minimize_from
    rows = cells(LOGISTIC)
    terms = " + ".join(f"softplus(w*{x} + b) - {y}*(w*{x} + b)" for x, y in rows)
    m = minimize_from(f"({terms})/{len(rows)}", ["w=0,b=0"], None, None, "auto", None, None, 1e-10, False)
    assert r.run.theta == pytest.approx(list(m.argmin().values()), abs=1e-3)
    assert r.run.loss == pytest.approx(m.last.J, abs=1e-7)


def test_loss_with_yhat_equals_the_default(exact):
    a = fit(exact, mode="online", order="shuffle", epochs=5)
    b = fit(exact, mode="online", order="shuffle", epochs=5, loss="(yhat - y)^2")
    assert a.run.history == b.run.history


def test_same_seed_same_output(cli):
    args = ["fit", "w*x + b", "--data", LINE, "--target", "y", "--mode", "minibatch", "--batch-size", "16",
            "--order", "shuffle", "--epochs", "20", "--lr", "0.05", "--seed", "7"]
    r1 = cli(*args, "--format", "json")
    r2 = cli(*args, "--format", "json")
    assert r1 == r2 and r1[0] == 0
    assert cli(*args, "--format", "plain") == cli(*args, "--format", "plain")
    r3 = cli(*args[:-2], "--seed", "8", "--format", "json")
    assert json.loads(r3[1])["history"] != json.loads(r1[1])["history"]


@pytest.mark.parametrize("mode", ["online", "minibatch"])
def test_shuffle_and_sample_differ_from_fixed(mode):
    fixed = fit(LINE, mode=mode, order="fixed", epochs=10).run.history
    shuffle = fit(LINE, mode=mode, order="shuffle", epochs=10).run.history
    sample = fit(LINE, mode=mode, order="sample", epochs=10).run.history
    assert shuffle != fixed and sample != fixed and sample != shuffle
    # fixed order needs no seed: repeating it gives the same history
    assert fit(LINE, mode=mode, order="fixed", epochs=10, seed=None).run.history == fixed


def test_no_seed_picks_one_and_says_so():
    r = fit(LINE, mode="online", order="shuffle", epochs=2, seed=None)
    assert isinstance(r.run.seed, int)
    assert f"--seed {r.run.seed}" in r.setup.seed_note
    again = fit(LINE, mode="online", order="shuffle", epochs=2, seed=r.run.seed)
    assert again.run.history == r.run.history


def test_init(exact):
    r = fit(exact, init=["w=3,b=-2"], epochs=1)
    assert r.run.initial_loss == pytest.approx(0, abs=1e-25)
    assert r.run.init == [3.0, -2.0]
    r = fit(exact, init=["w=1", "b=pi"], epochs=1)
    assert r.run.init == [1.0, math.pi]
    r = fit(exact, init=["0.5"], epochs=1)
    assert r.run.init == [0.5, 0.5]


def test_json_keys(cli):
    code, out, err = cli("fit", "w*x + b", "--data", LINE, "--target", "y", "--epochs", "7", "--format", "json")
    assert code == 0
    d = json.loads(out)
    for k in ("model", "params", "loss", "history", "mode", "order", "epochs"):
        assert k in d
    assert d["model"] == "w*x + b" and list(d["params"]) == ["w", "b"]
    assert len(d["history"]) == 7 and d["loss"] == d["history"][-1]
    assert d["mode"] == "batch" and d["order"] == "fixed" and d["epochs"] == 7


def test_plain_output_has_table_plot_and_summary(cli):
    code, out, err = cli("fit", "w*x + b", "--data", LINE, "--target", "y", "--epochs", "30", "--format", "plain")
    assert code == 0 and err == ""
    assert "Progress per epoch" in out and "loss J(θ) per epoch" in out and "epoch" in out
    assert "┤" in out                                    # the plotext frame
    assert "\x1b[" not in out                            # no colour codes in plain text
    assert "\nw = " in out and "\nloss = " in out


def test_compare(cli):
    code, out, _ = cli("fit", "w*x + b", "--data", LINE, "--target", "y", "--compare", "--epochs", "20",
                       "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert d["mode"] == "compare" and set(d["runs"]) == {"batch", "online", "minibatch"}
    assert all(len(r["history"]) == 20 for r in d["runs"].values())
    assert d["runs"]["batch"]["updates"] == 20 and d["runs"]["online"]["updates"] == 2000
    assert d["runs"]["minibatch"]["updates"] == 20 * 7
    # online learns most per epoch at the start: after one epoch it is far ahead of batch
    assert d["runs"]["online"]["history"][0] < d["runs"]["batch"]["history"][0] / 10
    assert d["loss"] == min(r["loss"] for r in d["runs"].values())
    code, out, _ = cli("fit", "w*x + b", "--data", LINE, "--target", "y", "--compare", "--epochs", "20",
                       "--format", "plain")
    assert code == 0
    assert "Final losses" in out and "minibatch (16)" in out
    for label in ("* batch", "+ online", "o minibatch"):
        assert label in out


def test_divergence_is_reported_exit_1(cli):
    code, out, _ = cli("fit", "w*x + b", "--data", LINE, "--target", "y", "--lr", "5", "--format", "json")
    assert code == 1
    d = json.loads(out)
    assert d["diverged"] is True and "smaller --lr" in d["reason"]
    assert "Infinity" not in out and "NaN" not in out
    code, out, _ = cli("fit", "w*x + b", "--data", LINE, "--target", "y", "--lr", "5", "--format", "plain")
    assert code == 1 and "STOPPED" in out


def test_domain_error_mid_run_names_the_data_line(tmp_path):
    # a separable set: the logistic fit drives sigmoid to exactly 1.0 and log(1 - yhat) to log(0)
    p = tmp_path / "sep.csv"
    p.write_text("x,label\n-1,0\n1,1\n")
    r = fit(str(p), model="sigmoid(w*x + b)", target="label", loss=LOGLOSS, lr=100, epochs=100)
    assert r.exit_code == 1 and not r.run.diverged
    assert "outside the domain of log" in r.run.reason and "data line" in r.run.reason


def test_substitute_and_one_tape():
    from calccli.engine.expr import var
    from calccli.language.parse import parse
    node = substitute(parse("(yhat - y)^2 + yhat").node, {var("yhat"): parse("w*x + b").node})
    assert node is parse("(w*x + b - y)^2 + (w*x + b)").node     # shared model node, hash-consed
    loss = SampleLoss(node, ["w", "b"], Data({"x": [2.0], "y": [1.0]}, [2]))
    v, g = loss.value_and_grad([1.0, 1.0], 0)
    assert v == 4 + 3 and g == [2 * 2 * 2 + 2, 2 * 2 + 1]


def test_unused_text_columns_are_ignored(tmp_path):
    p = tmp_path / "named.csv"
    p.write_text("name,x,y\n" + "".join(f"p{i},{i / 10},{2 * i / 10 + 1}\n" for i in range(20)))
    r = fit(str(p), epochs=400, lr=0.2)
    assert r.run.theta == pytest.approx([2, 1], abs=1e-4)


# ---------------------------------------------------------------- bad input

def write(tmp_path, name, content):
    p = tmp_path / name
    (p.write_bytes if isinstance(content, bytes) else p.write_text)(content)
    return str(p)


BAD_FILES = [
    ("empty.csv", "", "is empty"),
    ("blank.csv", "\n\n  \n", "is empty"),
    ("noheader.csv", "1,2\n3,4\n", "no header row"),
    ("headeronly.csv", "x,y\n", "no data rows"),
    ("nonnum.csv", "x,y\n1,2\n3,abc\n", "line 3, column 'y': 'abc' is not a number"),
    ("emptycell.csv", "x,y\n1,2\n,4\n", "line 3, column 'x': the cell is empty"),
    ("nan.csv", "x,y\n1,nan\n", "'nan' is not a finite number"),
    ("ragged.csv", "x,y\n1,2\n3\n", "line 3: 1 value but the header has 2 columns"),
    ("dup.csv", "x,x\n1,2\n", "names the column 'x' twice"),
    ("binary.csv", b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary file"),
    ("latin1.csv", "x,y\n1,caf\xe9\n".encode("latin-1"), "not a UTF-8 text file"),
]


@pytest.mark.parametrize("name,content,needle", BAD_FILES)
def test_bad_files(cli, tmp_path, name, content, needle):
    path = write(tmp_path, name, content)
    code, out, err = cli("fit", "w*x + b", "--data", path, "--target", "y")
    assert code == 2
    assert out == ""
    assert needle in err and "Traceback" not in err


def test_missing_file_and_directory(cli, tmp_path):
    code, out, err = cli("fit", "w*x + b", "--data", str(tmp_path / "nope.csv"), "--target", "y")
    assert code == 2 and out == "" and "no such file" in err
    code, out, err = cli("fit", "w*x + b", "--data", str(tmp_path), "--target", "y")
    assert code == 2 and out == "" and "is a directory" in err
    code, out, err = cli("fit", "w*x + b", "--data", str(tmp_path / "nope.csv"), "--target", "y", "--format", "json")
    assert code == 2 and json.loads(out)["error"]["kind"] == "data"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(cli, tmp_path):
    path = write(tmp_path, "locked.csv", "x,y\n1,2\n")
    os.chmod(path, 0)
    try:
        code, out, err = cli("fit", "w*x + b", "--data", path, "--target", "y")
    finally:
        os.chmod(path, 0o600)
    assert code == 2 and out == "" and "permission denied" in err


@pytest.mark.parametrize("args,needle", [
    (["--target", "z"], "--target z: no such column"),
    (["--target", "y", "--mode", "stochastic"], "unknown mode 'stochastic'"),
    (["--target", "y", "--order", "random"], "unknown order 'random'"),
    (["--target", "y", "--mode", "minibatch", "--batch-size", "101"], "--batch-size 101 is larger than the data (100 rows)"),
    (["--target", "y", "--compare", "--batch-size", "500"], "larger than the data"),
    (["--target", "y", "--batch-size", "0"], "--batch-size must be at least 1"),
    (["--target", "y", "--batch-size", "-3"], "--batch-size must be at least 1"),
    (["--target", "y", "--lr", "0"], "--lr must be a positive number"),
    (["--target", "y", "--lr", "-0.5"], "--lr must be a positive number"),
    (["--target", "y", "--epochs", "0"], "--epochs must be at least 1"),
    (["--target", "y", "--init", "c=1"], "'c', which is not a parameter"),
    (["--target", "y", "--init", "w=1,w=2"], "gives 'w' twice"),
    (["--target", "y", "--loss", "(x - y)^2"], "--loss does not use the model"),
    (["--target", "y", "--loss", "(yhat - y"], ""),
])
def test_bad_options(cli, args, needle):
    code, out, err = cli("fit", "w*x + b", "--data", LINE, *args)
    assert code == 2
    assert out == ""
    assert needle in err


def test_model_without_parameters(cli):
    code, out, err = cli("fit", "2*x + 1", "--data", LINE, "--target", "y")
    assert code == 2 and out == "" and "no parameters" in err


def test_model_using_the_target(cli):
    code, out, err = cli("fit", "w*y", "--data", LINE, "--target", "y")
    assert code == 2 and out == "" and "target column 'y'" in err


def test_model_parse_error(cli):
    code, out, err = cli("fit", "w*x +", "--data", LINE, "--target", "y")
    assert code == 2 and out == ""


def test_bad_file_messages_are_checked_before_the_options_that_need_data(tmp_path):
    from calccli.errors import UsageError
    with pytest.raises(UsageError, match="unknown mode"):     # options first: no file is touched
        fit(str(tmp_path / "nope.csv"), mode="nope")


def test_generated_data_is_reproducible(tmp_path):
    """examples/make_data.py writes exactly the committed files."""
    import runpy
    import shutil
    for name in ("make_data.py", "line.csv", "logistic.csv", "quadratic.csv"):
        shutil.copy(ROOT / "examples" / name, tmp_path / name)
    runpy.run_path(str(tmp_path / "make_data.py"), run_name="__main__")
    for name in ("line.csv", "logistic.csv", "quadratic.csv"):
        assert (tmp_path / name).read_text() == (ROOT / "examples" / name).read_text()


def test_slow_divergence_is_still_reported(tmp_path):
    # lr 0.5 oscillates and grows, but slowly: J never jumps 1e12-fold, yet ends far above its start
    p = tmp_path / "named.csv"
    p.write_text("x,y\n" + "".join(f"{i / 10},{2 * i / 10 + 1}\n" for i in range(20)))
    r = fit(str(p), epochs=400, lr=0.5)
    assert r.exit_code == 1 and r.run.diverged and "smaller --lr" in r.run.reason


def test_latex(cli):
    code, out, _ = cli("fit", "w*x + b", "--data", LINE, "--target", "y", "--epochs", "3", "--format", "latex")
    assert code == 0 and out.startswith(r"\hat y = w x + b") and r"J(\theta)" in out
    code, out, _ = cli("fit", "w*x + b", "--data", LINE, "--target", "y", "--epochs", "3", "--compare",
                       "--format", "latex")
    assert code == 0 and r"\begin{array}" in out and r"\text{online} & 300" in out
