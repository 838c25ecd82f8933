"""tap.py - the TAP reporter the Python suites share: "ok N - ..." and
"not ok N - ..." lines (with up to 20 "#" lines of why), then summary()
prints the closing "N passed, M failed" line and gives the exit status."""
import sys

passed = failed = n = 0


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


def summary():
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
