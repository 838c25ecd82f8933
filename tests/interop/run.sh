#!/bin/sh
# run.sh - the interop suite (tests/interop/interop.py): smtpdx against
# Exim, OpenSMTPD, aiosmtpd, Haraka, Nodemailer smtp-server and replayed peer-suite dialogues.
# Ends in "N passed, M failed, K skipped"; servers that cannot run here are
# skipped with the reason, cases smtpdx gets wrong today (known-failing.txt)
# are reported loudly and counted as skipped.
cd "$(dirname "$0")/../.." || exit 3
exec python3 tests/interop/interop.py
