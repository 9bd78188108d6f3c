"""Bad input is normal input: caret messages, exit statuses, JSON error objects, no tracebacks."""
import json

import pytest

from calccli.errors import CalcError, DomainError, NotDifferentiable, ParseError
from calccli.language.parse import parse

PARSE_CASES = [
    ("1+", "expected an expression after '+'", 3),
    ("sin(x", "unclosed '(' opened at column 4", 4),
    ("sinn(x)", "unknown function 'sinn' — did you mean 'sin' or 'sinh'?", 1),
    ("x)", "unmatched ')'", 2),
    ("[1,2", "unclosed '[' opened at column 1", 1),
    ("1 + * 2", "expected an expression after '+', found '*'", 5),
    ("x $ y", "unexpected character '$'", 3),
    ("log(1,2)", "log() takes one argument, got 2", 1),
    ("", "empty expression", 1),
    ("sin", "'sin' is a function: write sin(…)", 1),
]


@pytest.mark.parametrize("text,message,column", PARSE_CASES)
def test_parse_errors_in_words_with_column(text, message, column):
    with pytest.raises(ParseError) as e:
        parse(text)
    assert e.value.message == message
    assert e.value.column == column
    assert e.value.exit_code == 2


def test_caret_sits_under_the_column():
    with pytest.raises(ParseError) as e:
        parse("x + sinn(x)")
    src, caret = e.value.caret_lines()
    assert src == "  x + sinn(x)"
    assert caret.index("^") - 2 == 4 and caret.count("^") == 4


DOMAIN_CASES = [
    ("log(x-1)", "1", DomainError, "b = log(a): a = 0 is outside the domain of log"),
    ("sqrt(x-1)", "1", NotDifferentiable, "not differentiable at this point: b = sqrt(a) at a = 0"),
    ("abs(x)", "0", NotDifferentiable, "not differentiable at this point: a = abs(x) at x = 0"),
    ("exp(exp(exp(x)))", "10", DomainError, "b = exp(a) overflows"),
    ("1/x", "0", DomainError, "division by zero"),
    ("x^0.5", "-1", DomainError, "a negative number to a non-integer power"),
    ("asin(x)", "2", DomainError, "outside the domain of asin"),
    ("x*1e200*1e200", "1", DomainError, "overflows float64"),
]


@pytest.mark.parametrize("text,at,kind,message", DOMAIN_CASES)
def test_domain_errors_name_the_intermediate_variable(text, at, kind, message):
    from calccli.commands.derivatives import diff_at
    with pytest.raises(kind) as e:
        diff_at(text, [at])
    assert message in e.value.message
    assert e.value.exit_code == 1


@pytest.mark.parametrize("args,code,needle", [
    (["diff", "1+", "--at", "1"], 2, "expected an expression after '+'"),
    (["diff", "log(x-1)", "--at", "1"], 1, "outside the domain of log"),
    (["diff", "x^2", "--at", "1", "--mode", "sideways"], 2, "unknown mode 'sideways'"),
    (["diff", "x^2", "--at", "1", "--format", "xml"], 2, "unknown format 'xml'"),
    (["diff", "x y", "--at", "1"], 2, "ambiguous"),
    (["eval", "x + y", "--at", "x=1"], 2, "the variable 'y' has no value"),
    (["diff", "x", "--at", "x=1", "--let", "x=2"], 2, "both --at and --let"),
    (["diff", "x^2", "--at", "x=1,x=2"], 2, "gives 'x' twice"),
])
def test_cli_exit_status_and_message(cli, args, code, needle):
    status, out, err = cli(*args)
    assert status == code
    assert needle in err
    assert "Traceback" not in out + err


def test_json_error_object_on_stdout(cli):
    status, out, err = cli("diff", "sin(x", "--at", "1", "--format", "json")
    assert status == 2
    obj = json.loads(out)
    assert obj == {"error": {"kind": "parse", "message": "unclosed '(' opened at column 4", "column": 4}}
    assert "unclosed" in err
    status, out, _ = cli("diff", "log(x-1)", "--at", "1", "--format", "json")
    assert status == 1 and json.loads(out)["error"]["kind"] == "domain"


def test_expression_may_start_with_minus(cli, capsys):
    status, out, _ = cli("diff", "-x^2", "--at", "1", "--format", "json")
    assert status == 0 and json.loads(out)["derivative"] == -2.0
    from calccli.app.cli import main
    with pytest.raises(SystemExit) as e:
        main(["eval", "--format", "json", "--", "-x^2 + 1", "--at", "x=3"])
    assert e.value.code == 0
    assert json.loads(capsys.readouterr().out)["value"] == -8.0


def test_wrt_variable_not_in_expression_gives_zero():
    from calccli.commands.derivatives import diff_at
    r = diff_at("x^2", ["x=1", "y=2"], wrt="y")
    assert r.derivative == 0.0


def test_deep_nesting_never_hits_the_recursion_limit():
    from calccli.commands.derivatives import diff_at, eval_expr
    deep = "(" * 5000 + "x" + ")" * 5000
    assert eval_expr(deep, ["x=2"]).value == 2.0
    nested = "sin(" * 5000 + "x" + ")" * 5000
    r = diff_at(nested, ["0.5"])
    import math
    x, d = 0.5, 1.0
    for _ in range(5000):
        d *= math.cos(x)
        x = math.sin(x)
    assert abs(r.derivative - d) <= 1e-12 * abs(d)
    long_sum = " + ".join(f"sin({k} x)" for k in range(1, 3000))
    assert abs(diff_at(long_sum, ["0"]).derivative - sum(range(1, 3000))) < 1e-6


def test_batch_mode_json_lines_with_error_objects(cli):
    lines = "x^2\n# a comment\n\nsin(x\nlog(x-1)\nexp(x)\n"
    status, out, _ = cli("diff", "-", "--at", "x=1", "--format", "json", input=lines)
    objs = [json.loads(l) for l in out.strip().splitlines()]
    assert len(objs) == 4
    assert objs[0]["derivative"] == 2.0
    assert objs[1]["error"]["kind"] == "parse"
    assert objs[2]["error"]["kind"] == "domain"
    assert objs[3]["derivative"] == 2.718281828459045
    assert status == 2  # the largest status of any line


def test_never_a_traceback_for_odd_input(cli):
    for text in ["\x00", "((((", "]]]", "x^^2", "2e", "1e999", "ℝ", "x[0]", "π^e", ",", "x ** ** 2"]:
        status, out, err = cli("diff", text, "--at", "1")
        assert status in (0, 1, 2), text
        assert "Traceback" not in out + err
