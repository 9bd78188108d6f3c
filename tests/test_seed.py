"""The notes' example, section 7: values, the exact table, both modes, to the last digit."""
import json

from calccli.commands.derivatives import diff_at
from conftest import SEED

F1 = 1.0900122119747424
DF1 = 5.983082595908695


def test_value_and_derivative_both_modes():
    for mode in ("reverse", "forward"):
        r = diff_at(SEED, ["1.0"], mode=mode)
        assert abs(r.value - F1) <= 1e-13
        assert abs(r.derivative - DF1) <= 1e-13
        assert repr(r.derivative) == "5.983082595908695"
        assert repr(r.value) == "1.0900122119747424"


def test_exact_table_six_rows():
    r = diff_at(SEED, ["x=1"])
    assert [(t.name, t.definition) for t in r.trace] == [
        ("a", "x^2"), ("b", "exp(a)"), ("c", "a + b"),
        ("d", "sqrt(c)"), ("e", "cos(c)"), ("f", "d + e")]
    vals = {t.name: t.value for t in r.trace}
    assert vals["a"] == 1.0
    assert vals["b"] == 2.718281828459045
    assert vals["c"] == 3.718281828459045
    assert vals["d"] == 1.928284685532467
    assert vals["e"] == -0.8382724735577245
    local = {(t.name, p.wrt): (p.expression, p.value) for t in r.trace for p in t.partials}
    assert local[("a", "x")] == ("2x", 2.0)
    assert local[("b", "a")] == ("exp(a)", 2.718281828459045)
    assert local[("c", "a")] == ("1", 1.0) and local[("c", "b")] == ("1", 1.0)
    assert local[("d", "c")][0] == "1/(2 sqrt(c))"
    assert local[("d", "c")][1] == 0.2592978120665479
    assert local[("e", "c")] == ("-sin(c)", 0.5452515566923345)


def test_reverse_steps_follow_the_notes():
    r = diff_at(SEED, ["1"])
    steps = {s.target: s for s in r.steps}
    assert steps["∂f/∂c"].formula == "∂f/∂d·∂d/∂c + ∂f/∂e·∂e/∂c"
    assert steps["∂f/∂c"].value == 0.8045493687588824
    assert "contributions add" in steps["∂f/∂c"].note
    assert steps["∂f/∂a"].formula == "∂f/∂b·∂b/∂a + ∂f/∂c·∂c/∂a"
    assert steps["∂f/∂a"].value == 2.9915412979543476
    assert steps["∂f/∂x"].formula == "∂f/∂a·∂a/∂x"
    assert steps["∂f/∂x"].value == DF1
    assert r.steps[-1].target == "∂f/∂x"


def test_forward_steps_one_line_per_variable():
    r = diff_at(SEED, ["1"], mode="forward")
    targets = [s.target for s in r.steps]
    assert targets == ["ẋ", "ȧ", "ḃ", "ċ", "ḋ", "ė", "ḟ"]
    vals = {s.target: s.value for s in r.steps}
    assert vals["ḃ"] == 5.43656365691809
    assert vals["ċ"] == 7.43656365691809
    assert vals["ė"] == 4.054797910376228
    assert vals["ḟ"] == DF1
    assert r.steps[1].formula == "2x·ẋ"


def test_cli_plain_and_json(cli):
    code, out, _ = cli("diff", SEED, "--at", "1.0", "--format", "plain")
    assert code == 0
    assert "f(1) = 1.0900122119747424" in out
    assert "f'(1) = 5.983082595908695" in out
    for row in ("a    x^2", "b    exp(a)", "c    a + b", "d    sqrt(c)", "e    cos(c)", "f    d + e"):
        assert row in out
    code, out, _ = cli("diff", SEED, "--at", "x=1", "--format", "json")
    obj = json.loads(out)
    for key in ("expression", "variable", "point", "mode", "order", "value", "derivative", "trace", "steps"):
        assert key in obj
    assert obj["derivative"] == DF1 and obj["value"] == F1
    assert obj["point"] == {"x": 1.0} and obj["variable"] == "x" and obj["mode"] == "reverse"
    assert [t["name"] for t in obj["trace"]] == list("abcdef")
    assert obj["trace"][1]["definition"] == "exp(a)"
    assert all({"name", "definition", "value"} <= set(t) for t in obj["trace"])


def test_forward_mode_cli(cli):
    code, out, _ = cli("diff", SEED, "--at", "1", "--mode", "forward", "--format", "plain")
    assert code == 0 and "ḋ" in out and "forward mode" in out
    assert "5.983082595908695" in out
