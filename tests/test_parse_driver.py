"""The lean LALR driver (calccli.language.lalr) gives what Lark's own parser gives
from the same grammar and callbacks: the same node, the same spans, the same
error (message and position), on written, random and fuzzed inputs."""
import random

from hypothesis import given, settings, strategies as st

from calccli.errors import CalcError
from calccli.language import parse as P
from calccli.language.lalr import Fallback
from exprgen import random_expr


def _outcome(text, lark_only):
    """(node, spans) or (error message, position) from one of the two parsers."""
    if lark_only:
        saved = P._run
        P._run = P._lark_parse
    try:
        r = P.parse(text)
        return ("ok", r.node, dict(r.spans))
    except CalcError as e:
        return ("error", e.message, e.pos, e.end)
    finally:
        if lark_only:
            P._run = saved
        P._BUILDER.start()


def same(text):
    assert _outcome(text, False) == _outcome(text, True), text


WRITTEN = [
    "x+1", "x^T A x", "2x sin(x)^2", "x**2 * y", "[1,2]^T", "T^T", "x^T2", "x^Tx", "T", "T*x^T",
    "-2^3", "A[1,2]", "√x²", "+-x", "max(x,y)", "max(x)", "((x))", "x[1]ᵀ", "x⁻¹", "x²y",
    "x./y .* z .^ 2", "x ⊙ y", "3 · 4 × 5 ⋅ 6", "a − b", "ln(x)", "ones(3)", "zeros(2)^T",
    "exp(-x^2/2)", "1e-3x", ".5x", "2.5e+10", "A [1, 2]", "f(x)", "sin", "x +", "(x", "x)", "x $ y",
    "", "   ", "1e999", "sin(x, y)", "x[0]", "x[1.5]", "[[1,2],[3,4]] x", "x ** -1", "x^-y^2",
    "√(x+1)", "∑x", "x÷2", "2 (x+1)", "sin x", "x[1][2]", "[x, y]ᵀ [x, y]", "atan2(y, x)",
    "log1p(x) + expm1(x)", "x^T^T", "x ^ T", "-(-(-x))", "1/(2 + cos(x))",
    " x ", "x\t+\n1 ", "x  $", "2 **3", "x* *2", "x *  * 2", "  (  x  )  ", "x\r\n", "x \f y",
]


def test_written_inputs():
    for text in WRITTEN:
        same(text)


def test_random_expressions():
    rng = random.Random(4)
    for _ in range(400):
        text, _ = random_expr(rng, ("x", "y", "T"), depth=rng.randint(1, 6))
        same(text)


ALPHABET = list("xyTA12.e+-*/^()[], \t\n$é×⋅⁻") + ["sin", "max", "ones", "²", "ᵀ", "√", "−", "·", "⊙", ".*", ".^",
                                                   "./", "**", "  "]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ALPHABET), max_size=14))
def test_fuzzed_inputs(parts):
    same("".join(parts))


def test_the_lexer_reorders_only_terminals_that_cannot_start_alike():
    """The plan's regex tries (, ), +, -, ^, * and / first and folds spaces into tokens:
    sound only because no terminal moved ahead of one that can start with the same
    character (** before *; names before numbers), and no token starts with a space."""
    from calccli.language.lalr import first_chars, lexer_regex, may_start_alike
    star, power, name, number = (first_chars(r) for r in (r"\*", r"(?:\*\*|\^)",
                                                           r"(?!\d)[^\W²]+", r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"))
    assert may_start_alike(star, power) and may_start_alike(name, number)
    assert not may_start_alike(first_chars(r"\("), name) and not may_start_alike(first_chars(r"\."), name)
    assert may_start_alike(first_chars(r"\."), number) and first_chars(r"a*") is None
    assert first_chars(r"(?i)x") is None and first_chars(r"(?i:x)") is None and first_chars("x") == [frozenset("x")]
    terms = [("NAME", r"(?!\d)[^\W²]+"), ("POW", r"(?:\*\*|\^)"), ("WS", r"[ \t]+"), ("STAR", r"\*"),
             ("LPAR", r"\(")]
    regex, names = lexer_regex(terms, {"WS"})
    assert list(names.values()) == ["LPAR", "POW", "STAR", "NAME", "WS"]
    assert regex.startswith(r"(?:[ \t]+)?(?:")
    assert list(lexer_regex(terms + [("SP", r"\s*x")], {"WS"})[1].values())[-1] == "SP"   # a token may start
    assert list(lexer_regex([("A", r"ab|c"), ("B", r"a"), ("STAR", r"\*")], set())[1].values()) == ["STAR", "A", "B"]


def test_the_driver_steps_aside_on_what_it_cannot_lex():
    try:
        P._get_driver().parse("x $ y")
    except Fallback:
        pass
    else:
        raise AssertionError("an unknown character must be left to Lark")


def test_the_generated_plan_is_the_grammar_s():
    """lalr_plan.py was generated from grammar/calc.lark as it is (regenerate it with
    ``python -m calccli.language.lalr`` after editing the grammar): the plan Lark's tables
    give today, in canonical numbering, is the shipped one, and parses as it does."""
    from calccli.language import lalr_plan
    from calccli.language.lalr import Driver, Fallback, plan_from_lark
    assert lalr_plan.GRAMMAR == P.grammar_path().read_text(encoding="utf-8")
    plan = plan_from_lark(P.lark_parser())
    assert plan == lalr_plan.PLAN
    shipped, fresh = Driver(lalr_plan.PLAN, P._BUILDER), Driver(plan, P._BUILDER)
    rng = random.Random(9)
    texts = WRITTEN + [random_expr(rng, ("x", "y", "T"), depth=rng.randint(1, 6))[0] for _ in range(200)]

    def run(driver, text):
        P._BUILDER.start()
        try:
            return ("ok", driver.parse(text), P.first_spans(P._BUILDER.made))
        except Fallback:
            return ("fallback",)
        except CalcError as e:
            return ("error", e.message, e.pos)
    for text in texts:
        assert run(shipped, text) == run(fresh, text), text


def test_a_valid_input_is_parsed_without_importing_lark():
    import subprocess
    import sys
    code = ("import sys; from calccli.language.parse import parse; parse('x^T A x + sin(2x)[1]'); "
            "print(any(m == 'lark' or m.startswith('lark.') for m in sys.modules)); "
            "from calccli.errors import CalcError\ntry: parse('1 +')\nexcept CalcError as e: print(e.message)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["False", "expected an expression after '+'"]


def test_a_long_input_leaves_its_nodes_to_reference_counting():
    """A long parse and its tape pause the cyclic collector and then move what they
    made (interned nodes, acyclic) out of its sight: the collector is on again, the
    frozen generation grew, and a cycle made afterwards is still collected."""
    import gc
    import weakref
    from calccli.engine.tape import build_tape
    text = " + ".join(f"{k}*sin(x{k % 97})" for k in range(3000))
    before = gc.get_freeze_count()
    tape = build_tape(P.parse(text).node)
    assert gc.isenabled() and len(tape.rows) > 5000
    assert gc.get_freeze_count() > before

    class Cyclic:
        pass
    a = Cyclic()
    a.me = a
    gone = weakref.ref(a)
    del a
    gc.collect()
    assert gone() is None


def test_tape_index_and_names():
    """The walk's own index is each node's place in the order; row names are a, b, …,
    z, a1, … skipping the expression's variables and constants (here x, e and b1)."""
    from calccli.engine.tape import build_tape, topo_indexed, topo_order
    from calccli.language.parse import parse
    text = " + ".join(f"sin({k} x + b1) e" for k in range(1, 40))
    node = parse(text).node
    order, index = topo_indexed(node)
    assert order == topo_order(node) and index == {n: i for i, n in enumerate(order)}
    tape = build_tape(node)
    names = [tape.names[i] for i in tape.rows]
    letters = "abcdefghijklmnopqrstuvwxyz"
    pool = [c + s for s in [""] + [str(k) for k in range(1, 9)] for c in letters]
    assert names == [n for n in pool if n not in {"x", "e", "b1"}][:len(names)]
    assert len(names) > 60 and tape.name_of(len(tape.nodes) - 1) == names[-1]
