"""tap.py - the TAP reporter the Python suites share: "ok N - ..." and
"not ok N - ..." lines (with up to 20 "#" lines of why), "ok N - ... #
SKIP why" for what cannot run here, then summary() prints the closing
"N passed, M failed, K skipped" line and gives the exit status."""
import sys

passed = failed = skipped = n = 0


def report(ok, name, why=""):
    global passed, failed, n
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


def summary():
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0
