"""A safe arithmetic evaluator for the ``calculator`` tool (no names, no attribute access)."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

_BIN: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_UN: dict[type, Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCS: dict[str, Callable[..., Any]] = {
    "abs": abs, "round": lambda *a: _round(*a), "min": min, "max": max, "sqrt": math.sqrt, "log": math.log,
    "exp": math.exp, "floor": math.floor, "ceil": math.ceil, "sum": lambda *a: sum(a),
    "mean": lambda *a: sum(a) / len(a),
}


class CalcError(ValueError):
    pass


MAX_RESULT_DIGITS = 1000


def _round(*args: Any) -> Any:
    # round(10**100, -10**7) would compute 10**(10**7): refuse absurd precisions instead of hanging
    if not 1 <= len(args) <= 2:
        raise CalcError("takes a number and optionally the number of digits")
    if len(args) == 2 and abs(args[1]) > 100:
        raise CalcError("the number of digits must be between -100 and 100")
    return round(*args)


def evaluate(expression: str) -> float | int:
    if len(expression) > 2000:
        raise CalcError("expression too long (2000 characters at most)")
    try:
        tree = ast.parse(expression, mode="eval")
        value = _eval(tree.body)
    except SyntaxError as exc:
        raise CalcError(f"cannot parse expression: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise CalcError("the expression is nested too deeply") from None
    if not isinstance(value, int | float):
        raise CalcError("the expression did not produce a number")
    if isinstance(value, int) and value.bit_length() > MAX_RESULT_DIGITS * 3.33:
        raise CalcError(f"the result is too large (more than {MAX_RESULT_DIGITS} digits)")
    return value


def _eval(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and (abs(right) > 100 or abs(left) > 1e12):
            raise CalcError("exponent too large")
        try:
            return _BIN[type(node.op)](left, right)
        except ZeroDivisionError:
            raise CalcError("division by zero") from None
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UN:
        return _UN[type(node.op)](_eval(node.operand))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS:
        if node.keywords or len(node.args) > 1000:
            raise CalcError("keyword arguments are not supported")
        try:
            return _FUNCS[node.func.id](*[_eval(a) for a in node.args])
        except (TypeError, ValueError, ZeroDivisionError) as exc:
            raise CalcError(f"{node.func.id}(): {exc}") from None
    if isinstance(node, ast.List | ast.Tuple):
        raise CalcError("lists are not supported; pass numbers to functions directly, e.g. max(1, 2)")
    raise CalcError(
        "only numbers, + - * / // % **, parentheses and the functions "
        + ", ".join(sorted(_FUNCS)) + " are allowed"
    )
