#!/usr/bin/env python3
"""jsonq: the tests' one JSON checker (python3 is among the packages make installs).

  jsonq.py [-f FILE] [--lines|--each] [-a COND]... [EXPR [ARG...]]

Reads FILE (default: stdin) and decodes it strictly: UTF-8 (no overlongs,
no encoded surrogates), RFC 8259 JSON (no raw control characters in
strings, no NaN or Infinity, no duplicate keys, no lone surrogate escapes,
nothing after the value). With --lines, every line is one document and
every line, the last too, ends in a newline; --each is --lines printing,
for each line, "ok" or why it is not (checks of the checker itself).

For each document, each COND must be true, and then EXPR is printed:
a string as it is, None/True/False as null/true/false, a tuple as its
fields joined by tabs, anything else as compact JSON. COND and EXPR are
Python expressions over
  d       the document          raw   its text
  args    the ARGs              find(list, **kv)  the first element of list
                                      whose keys have those values
Exit 0; 1 when the input is not JSON, a COND is false or EXPR fails (what
and where on stderr); 2 on a usage error.
"""
import json
import sys


def fail(msg):
    sys.stderr.write("jsonq: %s\n" % msg)
    sys.exit(1)


def no_dups(pairs):
    keys = [k for k, _ in pairs]
    for k in keys:
        if keys.count(k) > 1:
            raise ValueError("duplicate key %r" % k)
    return dict(pairs)


def no_constant(name):
    raise ValueError("%s is not JSON" % name)


def no_surrogates(v):
    if isinstance(v, str):
        if any(0xD800 <= ord(c) <= 0xDFFF for c in v):
            raise ValueError("lone surrogate in %r" % v)
    elif isinstance(v, dict):
        for k, x in v.items():
            no_surrogates(k)
            no_surrogates(x)
    elif isinstance(v, list):
        for x in v:
            no_surrogates(x)


def decode(text):
    v = json.loads(text, object_pairs_hook=no_dups, parse_constant=no_constant)
    no_surrogates(v)
    return v


def find(items, **kv):
    for x in items:
        if all(k in x and type(x[k]) is type(v) and x[k] == v for k, v in kv.items()):
            return x
    raise LookupError("no element with %r" % kv)


def show(v):
    if isinstance(v, tuple):
        return "\t".join(show(x) for x in v)
    if isinstance(v, str):
        return v
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def main(argv):
    path, lines, each, conds = None, False, False, []
    while argv and argv[0].startswith("-") and argv[0] != "-":
        opt = argv.pop(0)
        if opt == "--lines":
            lines = True
        elif opt == "--each":
            lines = each = True
        elif opt in ("-f", "-a") and argv:
            if opt == "-f":
                path = argv.pop(0)
            else:
                conds.append(argv.pop(0))
        elif opt == "--":
            break
        else:
            sys.stderr.write(__doc__)
            sys.exit(2)
    expr, args = (argv[0], argv[1:]) if argv else (None, [])
    if path is None:
        data = sys.stdin.buffer.read()
    else:
        with open(path, "rb") as f:
            data = f.read()
    if lines:
        if data and not data.endswith(b"\n"):
            fail("the last line has no newline")
        docs = data.split(b"\n")[:-1]
    else:
        docs = [data]
    out = []
    for no, raw in enumerate(docs, 1):
        where = "line %d" % no if lines else "the document"
        verdict, value = check(raw, conds, expr, args)
        if each:
            out.append(verdict or "ok")
        elif verdict is not None:
            fail("%s: %s: %.300r" % (where, verdict, raw))
        elif expr is not None:
            out.append(value)
    for line in out:
        sys.stdout.buffer.write(line.encode("utf-8") + b"\n")


def check(raw, conds, expr, args):
    """(None, what expr shows) when the bytes raw are JSON and each cond
    holds, else (why, None)."""
    try:
        raw = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return "not UTF-8: %s" % e, None
    try:
        d = decode(raw)
    except ValueError as e:
        return "not JSON: %s" % e, None
    env = {"d": d, "raw": raw, "args": args, "find": find}
    for c in conds:
        try:
            if not eval(c, env):
                return "not %s" % c, None
        except Exception as e:
            return "%s: %s" % (c, e), None
    if expr is None:
        return None, None
    try:
        return None, show(eval(expr, env))
    except Exception as e:
        return "%s: %s" % (expr, e), None


if __name__ == "__main__":
    main(sys.argv[1:])
