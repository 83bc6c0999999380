"""Runs tini's own test/run_inner_tests.py (read from Debian's source
package at run time, never stored here) and counts its checks one by one.

Upstream's script is one main() that stops at the first failed assert. To
count every check, its source is compiled with each `assert` turned into a
call that records the failure and goes on; each "Running ..." line it
prints opens a new check (the exit-code section counts as two: -e with the
code listed, and with every other code listed). Its busy_wait tolerates a
process that is already gone, and every wait has a bound, so one failure
never hangs or ends the run. Nothing else of its logic is changed.

  SOURCE_DIR=tini-src BUILD_DIR=dir-with-tini-and-sigconf-test \
  FORCE_SUBREAPER=1 python3 tini_inner.py RESULTS_FILE

RESULTS_FILE gets one line a check: "NAME<TAB>passed|failed<TAB>why".
"""
import ast
import os
import re
import subprocess
import sys
import types

EXPECTED_CHECKS = 22
WAIT_BOUND_S = 60
SPLIT_SECTIONS = ("Running exit code test",)


class Results:
    def __init__(self):
        self.units = {}  # name -> first failure reason, or None
        self.section = None

    def open_section(self, text):
        for var, label in (("BUILD_DIR", "<build>"), ("SOURCE_DIR", "<src>")):
            text = text.replace(os.environ[var], label)
        self.section = text
        if not text.startswith(SPLIT_SECTIONS):
            self.units.setdefault(text, None)

    def record(self, label, ok, why):
        name = self.section or "(before any section)"
        if name.startswith(SPLIT_SECTIONS):
            name = "{} / {}".format(name, label)
        self.units.setdefault(name, None)
        if not ok and self.units[name] is None:
            self.units[name] = why or "assertion failed"


RESULTS = Results()
_real_print = print


def peer_print(*args, **kwargs):
    _real_print(*args, **kwargs)
    sys.stdout.flush()
    if args and isinstance(args[0], str) and re.match(r"^[Rr]unning ", args[0]):
        RESULTS.open_section(args[0])


def peer_check(cond, msg, lineno, label):
    try:
        ok = bool(cond())
        why = None if ok else "line {}: {}".format(lineno, msg())
    except Exception as e:  # noqa: BLE001 - an exception is a failed check
        ok, why = False, "line {}: {!r}".format(lineno, e)
    if not ok:
        why = " ".join(str(why).split())[:300]  # one line, bounded
        _real_print("peer: check failed: " + why, file=sys.stderr)
    RESULTS.record(label, ok, why)


class AssertToCheck(ast.NodeTransformer):
    """assert COND, MSG  ->  __peer_check(lambda: COND, lambda: MSG, LINE, LABEL)"""

    def visit_Assert(self, node):
        def thunk(expr):
            return ast.Lambda(
                args=ast.arguments(
                    posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]
                ),
                body=expr,
            )

        msg = node.msg if node.msg is not None else ast.Constant(value="assertion failed")
        label = "check"
        first = msg.left if isinstance(msg, ast.BinOp) else msg
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            label = re.split(r" failed|%|\{", first.value)[0].strip() or label
        call = ast.Call(
            func=ast.Name(id="__peer_check", ctx=ast.Load()),
            args=[thunk(node.test), thunk(msg), ast.Constant(node.lineno), ast.Constant(label)],
            keywords=[],
        )
        return ast.copy_location(ast.Expr(value=call), node)


class BoundedPopen(subprocess.Popen):
    """Every wait of the suite has a bound: a hang is a failed check."""

    def _hung(self):
        RESULTS.record("wait", False, "pid {} still running after {}s".format(self.pid, WAIT_BOUND_S))
        try:
            import psutil

            for child in psutil.Process(self.pid).children(recursive=True):
                child.kill()
        except Exception:  # noqa: BLE001 - already gone
            pass
        self.kill()

    def wait(self, timeout=None):
        if timeout is not None:
            return super().wait(timeout)
        try:
            return super().wait(WAIT_BOUND_S)
        except subprocess.TimeoutExpired:
            self._hung()
            return super().wait()

    def communicate(self, input=None, timeout=None):
        if timeout is not None:
            return super().communicate(input, timeout)
        try:
            return super().communicate(input, WAIT_BOUND_S)
        except subprocess.TimeoutExpired:
            self._hung()
            return super().communicate()


def bitmap_module():
    """The PyPI module `bitmap` that the suite imports is not packaged in
    Debian; this stand-in does the one thing the suite asks of it: the set
    bits of a binary string, bit 0 being its last character."""
    mod = types.ModuleType("bitmap")

    class BitMap:
        def __init__(self, bits):
            self._bits = bits

        @classmethod
        def fromstring(cls, s):
            return cls([i for i, c in enumerate(reversed(s)) if c == "1"])

        def nonzero(self):
            return list(self._bits)

    mod.BitMap = BitMap
    return mod


def main():
    out_path = sys.argv[1]
    src = os.path.join(os.environ["SOURCE_DIR"], "test", "run_inner_tests.py")
    with open(src) as f:
        tree = ast.parse(f.read(), src)
    tree = ast.fix_missing_locations(AssertToCheck().visit(tree))
    sys.modules.setdefault("bitmap", bitmap_module())
    subprocess.Popen = BoundedPopen
    g = {"__name__": "tini_inner_tests", "__file__": src, "__builtins__": __builtins__}
    g["__peer_check"] = peer_check
    g["print"] = peer_print
    exec(compile(tree, src, "exec"), g)

    wait = g["busy_wait"]

    def busy_wait(condition, timeout):
        def tolerant():
            try:
                return condition()
            except Exception:  # noqa: BLE001 - e.g. the process is gone
                return False

        wait(tolerant, timeout)

    g["busy_wait"] = busy_wait
    try:
        g["main"]()
    except BaseException as e:  # noqa: BLE001 - the run must report
        RESULTS.record("run", False, "the suite stopped: {!r}".format(e))
    units = list(RESULTS.units.items())
    for i in range(len(units), EXPECTED_CHECKS):
        units.append(("check {} (never reached)".format(i + 1), "the suite stopped before it"))
    with open(out_path, "w") as f:
        for name, why in units:
            f.write("{}\t{}\t{}\n".format(name, "failed" if why else "passed", why or ""))


if __name__ == "__main__":
    main()
