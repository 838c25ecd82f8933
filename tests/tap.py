"""tap.py - the TAP reporter the Python suites share: "ok N - ..." and
"not ok N - ..." lines (with up to 20 "#" lines of why), "ok N - ... #
SKIP why" for what cannot run here, then summary() prints the closing
"N passed, M failed, K skipped" line and gives the exit status."""
import sys
import threading

passed = failed = skipped = n = 0
_local = threading.local()


def report(ok, name, why=""):
    global passed, failed, n
    buf = getattr(_local, "buf", None)
    if buf is not None:          # inside parallel(): printed later, in order
        buf.append((ok, name, why))
        return
    n += 1
    if ok:
        passed += 1
        print("ok %d - %s" % (n, name))
    else:
        failed += 1
        print("not ok %d - %s" % (n, name))
        for line in str(why).splitlines()[:20]:
            print("#   " + line)
    sys.stdout.flush()


def skip(name, why):
    """A test (or a group of them) that cannot run here: said, and
    counted as skipped, never as passed."""
    global skipped, n
    n += 1
    skipped += 1
    print("ok %d - %s # SKIP %s" % (n, name, why))
    sys.stdout.flush()


def parallel(fn, items, workers=4):
    """fn(item) for every item, `workers` at a time (the tests mostly wait
    on sockets and timeouts); the reports each call makes are printed
    together, in the order of items, as if it had run alone."""
    import concurrent.futures

    def one(item):
        _local.buf = []
        try:
            fn(item)
        except Exception as e:       # a crashed test is a failed one
            _local.buf.append((False, "%r: the test ran to its end" % (item,), repr(e)))
        buf, _local.buf = _local.buf, None
        return buf

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
        for buf in ex.map(one, items):
            for ok, name, why in buf:
                report(ok, name, why)


def summary():
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0
