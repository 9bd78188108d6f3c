"""calc fit's vectorised pass (the tape on numpy columns, a chunk of samples at a time)
gives the per-sample reference's parameters and losses, and numpy's own descent."""
import math

import numpy as np
import pytest

from calccli.commands import fit as fitmod
from calccli.commands import fit_loss
from calccli.commands.fit import fit_model

LOGLOSS = "-(label*log(yhat) + (1-label)*log(1-yhat))"


@pytest.fixture
def data(tmp_path):
    """300 rows: y = 2 x1 - 3 x2 + 1 + noise, and a label drawn from sigmoid(1.5 x1 - 0.5)."""
    rng = np.random.default_rng(42)
    n = 300
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = 2 * x1 - 3 * x2 + 1 + 0.1 * rng.normal(size=n)
    label = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x1 - 0.5)))).astype(float)
    p = tmp_path / "gen.csv"
    p.write_text("x1,x2,y,label\n" + "".join(f"{a!r},{b!r},{c!r},{d!r}\n" for a, b, c, d in
                                              zip(x1.tolist(), x2.tolist(), y.tolist(), label.tolist())))
    return str(p), x1, x2, y, label


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(fit_loss, "CHUNK", 64)        # 300 rows: 5 chunks, the last one short


def run(path, model, target, reference=False, monkeypatch=None, **kw):
    if reference:
        monkeypatch.setattr(fit_loss.BatchLoss, "fits", staticmethod(lambda sample: False))
    try:
        return fit_model(model, path, target, **kw).run
    finally:
        if reference:
            monkeypatch.undo()


def close(a, b, rel=1e-9):
    return all(abs(x - y) <= rel * max(abs(x), abs(y), 1e-300) for x, y in zip(a, b))


CASES = [("w1*x1 + w2*x2 + b", "y", None, 0.1), ("sigmoid(w*x1 + b)", "label", LOGLOSS, 0.5),
         ("w1*x1 + w2*x2 + b", "y", "(yhat - y)^2 + 0.1*(w1^2 + w2^2)", 0.1),     # a term without data
         ("a*exp(-c*x1^2) + d", "y", None, 0.05)]


@pytest.mark.parametrize("model,target,loss,lr", CASES)
@pytest.mark.parametrize("mode,order", [("batch", "fixed"), ("batch", "shuffle"), ("batch", "sample"),
                                        ("minibatch", "fixed"), ("minibatch", "shuffle"), ("minibatch", "sample")])
def test_vectorised_equals_the_per_sample_reference(data, small_chunks, monkeypatch, model, target, loss, lr,
                                                    mode, order):
    path = data[0]
    kw = dict(mode=mode, order=order, epochs=15, lr=lr, seed=5, loss=loss, batch_size=40)
    fast = run(path, model, target, **kw)
    ref = run(path, model, target, reference=True, monkeypatch=monkeypatch, **kw)
    assert not fast.reason and not ref.reason
    assert close(fast.theta, ref.theta) and close(fast.history, ref.history)
    assert close([fast.initial_loss], [ref.initial_loss]) and fast.updates == ref.updates


def test_batch_linear_regression_equals_a_numpy_loop(data, small_chunks):
    path, x1, x2, y, _ = data
    r = run(path, "w1*x1 + w2*x2 + b", "y", epochs=40, lr=0.1)
    w1 = w2 = b = 0.0
    hist = []
    for _ in range(40):
        res = w1 * x1 + w2 * x2 + b - y
        w1, w2, b = w1 - 0.1 * 2 * np.mean(res * x1), w2 - 0.1 * 2 * np.mean(res * x2), b - 0.1 * 2 * np.mean(res)
        hist.append(np.mean((w1 * x1 + w2 * x2 + b - y) ** 2))
    assert close(r.theta, [w1, w2, b]) and close(r.history, hist)


def test_batch_logistic_regression_equals_a_numpy_loop(data, small_chunks):
    path, x1, _, _, label = data
    r = run(path, "sigmoid(w*x1 + b)", "label", loss=LOGLOSS, epochs=30, lr=0.5)
    w = b = 0.0
    for _ in range(30):
        p = 1 / (1 + np.exp(-(w * x1 + b)))
        w, b = w - 0.5 * np.mean((p - label) * x1), b - 0.5 * np.mean(p - label)
    p = 1 / (1 + np.exp(-(w * x1 + b)))
    J = -np.mean(label * np.log(p) + (1 - label) * np.log(1 - p))
    assert close(r.theta, [w, b]) and close([r.loss], [J])


def test_online_is_unchanged_per_sample(data, monkeypatch):
    """online mode is the per-sample path: the same numbers with or without the vectorised pass."""
    kw = dict(mode="online", order="shuffle", epochs=2, lr=0.01, seed=1)
    fast = run(data[0], "w1*x1 + w2*x2 + b", "y", **kw)
    ref = run(data[0], "w1*x1 + w2*x2 + b", "y", reference=True, monkeypatch=monkeypatch, **kw)
    assert fast.theta == ref.theta and close(fast.history, ref.history)


def test_a_failing_chunk_names_the_data_line_as_the_reference_does(tmp_path, small_chunks, monkeypatch):
    # log(x) is defined for every row but row 200 (file line 202), which holds x = -1
    xs = [1 + i / 100 for i in range(300)]
    xs[200] = -1.0
    p = tmp_path / "neg.csv"
    p.write_text("x,y\n" + "".join(f"{x},{2 * x}\n" for x in xs))
    from calccli.errors import DomainError
    with pytest.raises(DomainError) as fast:
        run(str(p), "w*log(x)", "y", epochs=3)
    with pytest.raises(DomainError) as ref:
        run(str(p), "w*log(x)", "y", reference=True, monkeypatch=monkeypatch, epochs=3)
    assert "data line 202" in fast.value.message and fast.value.message == ref.value.message


def test_a_domain_error_mid_run_is_the_reference_one(tmp_path, small_chunks, monkeypatch):
    # separable data: sigmoid reaches 1.0 and log(1 - yhat) fails; the same epoch and message either way
    p = tmp_path / "sep.csv"
    p.write_text("x,label\n" + "".join(f"{x},{int(x > 0)}\n" for x in [-1 - i / 50 for i in range(100)]
                                       + [1 + i / 50 for i in range(100)]))
    kw = dict(loss=LOGLOSS, lr=100, epochs=100)
    fast = run(str(p), "sigmoid(w*x + b)", "label", **kw)
    ref = run(str(p), "sigmoid(w*x + b)", "label", reference=True, monkeypatch=monkeypatch, **kw)
    assert fast.reason and fast.reason == ref.reason and "data line" in fast.reason
    assert close(fast.history, ref.history)


def test_snapshots_are_thinned(tmp_path, monkeypatch):
    monkeypatch.setattr(fitmod, "SNAPSHOTS", 20)
    p = tmp_path / "line.csv"
    p.write_text("x,y\n" + "".join(f"{i / 10},{2 * i / 10 + 1}\n" for i in range(20)))
    r = run(str(p), "w*x + b", "y", epochs=537, lr=0.05)
    assert len(r.history) == 537                           # J after every epoch, as the contract says
    assert len(r.snapshots) <= 21 and 537 in r.snapshots and r.snapshots[537] == r.theta
    assert all(e % r.stride == 0 for e in r.snapshots if e != 537) and r.stride == 100
    from calccli.render import render_text
    out = render_text(fit_model("w*x + b", str(p), "y", epochs=537, lr=0.05), "plain")
    assert "\n  537  " in out and "Progress per epoch" in out


def test_math_of_the_merged_pass(data, small_chunks):
    """J after epoch k and the gradient at θ_k come from one pass: J is still the plain mean."""
    path, x1, x2, y, _ = data
    r = run(path, "w1*x1 + w2*x2 + b", "y", epochs=3, lr=0.1)
    w1, w2, b = r.snapshots[2]
    J = math.fsum(((w1 * x1 + w2 * x2 + b - y) ** 2).tolist()) / len(y)
    assert r.history[1] == pytest.approx(J, rel=1e-13)


def test_a_loss_without_data_counts_once_per_sample(data, small_chunks, monkeypatch):
    kw = dict(loss="(yhat - 3)^2", epochs=5, lr=0.1)
    fast = run(data[0], "w", "y", **kw)
    ref = run(data[0], "w", "y", reference=True, monkeypatch=monkeypatch, **kw)
    assert close(fast.theta, ref.theta) and fast.theta[0] == pytest.approx(3 * (1 - 0.8 ** 5))


# --------------------------------------------------------------------------- vector parameters

def flat(theta) -> list:
    return [float(v) for t in theta for v in np.ravel(t)]


VECTOR_CASES = [("w^T x + b", "y", None, None, 0.1),
                ("sigmoid(w^T x + b)", "label", LOGLOSS, None, 0.5),
                ("v^T tanh(W x) + c", "y", None, "W=[[0.1,0.2],[0.3,-0.4],[0.5,0.1]],v=[0.1,0.2,0.3]", 0.05),
                ("dot(w, x) + b*x1", "y", "(yhat - y)^2 + 0.1*w^T w", None, 0.1),     # a term without data
                ("x^T A x + mean(w .* x) + (W x)[2]", "y", None, "A=[[0,0],[0,0]],W=[[1,0],[0,1]]", 0.02),
                # softmax, logsumexp, log_softmax and norm in entries, shifted by a mean without gradient
                ("softmax([w^T x + b, 0])[1]", "label", LOGLOSS, None, 0.5),
                ("logsumexp(W x) + b", "y", None, "W=[[0.1,0.2],[0.3,-0.4],[0.2,0.2]]", 0.05),
                ("log_softmax([w^T x, b, 1])[2]", "y", None, None, 0.05),
                ("norm(x - w) + b", "y", None, "w=[0.5,-0.5]", 0.05)]


def prepared(path, model, target, loss=None, init=None, **kw):
    from calccli.commands.fit import prepare
    return prepare(model, path, target, loss=loss, init=init, features=["x=x1,x2"], **kw)


@pytest.mark.parametrize("model,target,loss,init,lr", VECTOR_CASES)
@pytest.mark.parametrize("mode,order", [("batch", "fixed"), ("batch", "shuffle"), ("batch", "sample"),
                                        ("minibatch", "fixed"), ("minibatch", "shuffle"), ("minibatch", "sample")])
def test_vector_parameters_vectorised_equal_the_per_sample_reference(data, small_chunks, monkeypatch, model, target,
                                                                     loss, init, lr, mode, order):
    """A loss with vectors runs batched through its form in components, with the per-sample path's numbers."""
    path = data[0]
    assert prepared(path, model, target, loss, init).loss.form is not None
    kw = dict(mode=mode, order=order, epochs=10, lr=lr, seed=5, loss=loss, init=init, batch_size=40,
              features=["x=x1,x2"])
    fast = run(path, model, target, **kw)
    ref = run(path, model, target, reference=True, monkeypatch=monkeypatch, **kw)
    assert not fast.reason and not ref.reason
    assert [np.shape(t) for t in fast.theta] == [np.shape(t) for t in ref.theta]
    assert close(flat(fast.theta), flat(ref.theta), 1e-12) and close(fast.history, ref.history, 1e-12)
    assert close([fast.initial_loss], [ref.initial_loss], 1e-12) and fast.updates == ref.updates


def test_the_form_in_components(data):
    """sigmoid(w^T x + b) is batched as sigmoid(w[1] x[1] + w[2] x[2] + b): x[k] is the k-th feature column."""
    form = prepared(data[0], "sigmoid(w^T x + b)", "label", LOGLOSS).loss.form
    assert set(form.tape.variables) == {"w[1]", "w[2]", "x[1]", "x[2]", "b", "label"}
    assert not any(form.tape.prims[i].array for i in form.tape.rows)
    assert np.array_equal(form.columns["x[2]"], data[2]) and form.names == [["w[1]", "w[2]"], ["b"]]


def test_vector_batch_equals_a_numpy_loop(data, small_chunks):
    path, x1, x2, _, label = data
    X = np.column_stack([x1, x2])
    r = run(path, "sigmoid(w^T x + b)", "label", loss=LOGLOSS, epochs=30, lr=0.5, features=["x=x1,x2"])
    w, b = np.zeros(2), 0.0
    for _ in range(30):
        res = 1 / (1 + np.exp(-(X @ w + b))) - label
        w, b = w - 0.5 * X.T @ res / len(res), b - 0.5 * np.mean(res)
    assert close(flat(r.theta), [*w, b], 1e-10)


@pytest.mark.parametrize("model,init", [("max(W x)", "W=[[0.1,0.2],[0.3,-0.4]]"), ("min(x - w) + b", None)])
def test_a_vector_loss_without_a_form_stays_per_sample(data, small_chunks, monkeypatch, model, init):
    assert prepared(data[0], model, "y", init=init).loss.form is None
    kw = dict(epochs=3, lr=0.01, init=init, features=["x=x1,x2"], mode="minibatch", order="shuffle", seed=2)
    fast = run(data[0], model, "y", **kw)
    ref = run(data[0], model, "y", reference=True, monkeypatch=monkeypatch, **kw)
    assert not fast.reason and flat(fast.theta) == flat(ref.theta) and fast.history == ref.history


def test_a_form_too_large_stays_per_sample(data, monkeypatch):
    monkeypatch.setattr(fit_loss, "MAX_SCALAR_NODES", 5)
    assert prepared(data[0], "w^T x + b", "y").loss.form is None
    r = run(data[0], "w^T x + b", "y", epochs=2, lr=0.1, features=["x=x1,x2"])
    assert not r.reason and r.updates == 2


def test_long_tapes_take_shorter_chunks(data, monkeypatch):
    monkeypatch.setattr(fit_loss, "CELLS", 1000)
    loss = prepared(data[0], "sigmoid(w^T x + b)", "label", LOGLOSS).loss
    batch = fit_loss.BatchLoss(loss)
    assert batch.chunk == 1000 // len(batch.tape.nodes)
    J, g, err = batch.sums([np.array([0.3, -0.2]), 0.1], range(loss.n))
    assert err is None and close([J], [loss.total([np.array([0.3, -0.2]), 0.1], range(loss.n))], 1e-12)
    ref = loss.grad_sum([np.array([0.3, -0.2]), 0.1], range(loss.n))
    assert close(flat(g), flat(ref), 1e-12)


def test_online_with_vector_parameters_is_unchanged(data, monkeypatch):
    kw = dict(mode="online", order="sample", epochs=2, lr=0.01, seed=1, features=["x=x1,x2"])
    fast = run(data[0], "w^T x + b", "y", **kw)
    ref = run(data[0], "w^T x + b", "y", reference=True, monkeypatch=monkeypatch, **kw)
    # the same updates in the same order; the last bit may differ where numpy's dot product
    # rounds w^T x differently from the sum written in components (seen with numpy 2.4)
    assert len(fast.history) == len(ref.history) == 2
    assert close(flat(fast.theta), flat(ref.theta), 1e-13) and close(fast.history, ref.history, 1e-13)


def test_a_failing_chunk_with_vectors_names_the_data_line_as_the_reference_does(tmp_path, small_chunks,
                                                                              monkeypatch):
    # log(x) (entry by entry) is defined for every row but row 200 (file line 202), where x2 = -1
    xs = [1 + i / 100 for i in range(300)]
    p = tmp_path / "neg.csv"
    p.write_text("x1,x2,y\n" + "".join(f"{x},{-1.0 if i == 200 else x / 2},{2 * x}\n" for i, x in enumerate(xs)))
    from calccli.errors import DomainError
    kw = dict(epochs=3, features=["x=x1,x2"])
    with pytest.raises(DomainError) as fast:
        run(str(p), "w^T log(x)", "y", **kw)
    with pytest.raises(DomainError) as ref:
        run(str(p), "w^T log(x)", "y", reference=True, monkeypatch=monkeypatch, **kw)
    assert "data line 202" in fast.value.message and fast.value.message == ref.value.message


def test_a_domain_error_mid_run_with_vectors_is_the_reference_one(tmp_path, small_chunks, monkeypatch):
    # separable data: sigmoid reaches 1.0 and log(1 - yhat) fails; the same epoch and message either way
    p = tmp_path / "sep.csv"
    xs = [-1 - i / 50 for i in range(100)] + [1 + i / 50 for i in range(100)]
    p.write_text("x1,x2,label\n" + "".join(f"{x},{x / 3},{int(x > 0)}\n" for x in xs))
    kw = dict(loss=LOGLOSS, lr=100, epochs=100, features=["x=x1,x2"])
    fast = run(str(p), "sigmoid(w^T x + b)", "label", **kw)
    ref = run(str(p), "sigmoid(w^T x + b)", "label", reference=True, monkeypatch=monkeypatch, **kw)
    assert fast.reason and fast.reason == ref.reason and "data line" in fast.reason
    assert close(fast.history, ref.history, 1e-12)
