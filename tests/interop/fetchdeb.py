"""fetchdeb.py - Debian packages for servers that must not be installed
(exim4-daemon-light would remove Postfix): `apt-get download` into the
cache (under flock /tmp/apt.lock, shared with every other apt user here)
and `dpkg -x` into a private tree.  Nothing is installed, nothing under
/etc is read or written.  Returns the tree, or raises Skip with why."""

import glob
import os
import subprocess

from lib import CACHE


class Skip(Exception):
    pass


def extracted(name, packages, probe):
    """The tree where `packages` are extracted, `probe` (a path inside it)
    proving they are; downloads them when missing."""
    tree = os.path.join(CACHE, name)
    if os.path.exists(os.path.join(tree, probe)):
        return tree
    debs = os.path.join(CACHE, "debs")
    try:
        os.makedirs(debs, exist_ok=True)
    except OSError as e:
        raise Skip("cannot create the cache %s: %s" % (debs, e))
    missing = [p for p in packages
               if not glob.glob(os.path.join(debs, p + "_*.deb"))]
    if missing:
        try:
            p = subprocess.run(["flock", "/tmp/apt.lock", "apt-get", "download"]
                               + missing, cwd=debs, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise Skip("apt-get download %s: %s" % (" ".join(missing), e))
        if p.returncode != 0:
            raise Skip("apt-get download %s failed (offline? no apt?): %s" % (
                " ".join(missing),
                p.stdout.decode("utf-8", "replace").strip().splitlines()[-1:]))
    os.makedirs(tree + ".tmp", exist_ok=True)
    for pkg in packages:
        for deb in glob.glob(os.path.join(debs, pkg + "_*.deb")):
            r = subprocess.run(["dpkg", "-x", deb, tree + ".tmp"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if r.returncode != 0:
                raise Skip("dpkg -x %s: %s" % (deb, r.stdout.decode()[-200:]))
    if os.path.exists(tree):
        subprocess.run(["rm", "-rf", tree])
    os.rename(tree + ".tmp", tree)
    if not os.path.exists(os.path.join(tree, probe)):
        raise Skip("%s not found after extracting %s" % (probe, packages))
    return tree


def private_users(state, users):
    """Copies of /etc/passwd and /etc/group with the users a server insists
    on (name -> uid) added, to bind-mount over the real ones inside a mount
    namespace of the server's own: the machine's files stay untouched."""
    pw = open("/etc/passwd").read()
    gr = open("/etc/group").read()
    for name, uid in users.items():
        pw += "%s:x:%d:%d::/nonexistent:/usr/sbin/nologin\n" % (name, uid, uid)
        gr += "%s:x:%d:\n" % (name, uid)
    p, g = os.path.join(state, "passwd"), os.path.join(state, "group")
    with open(p, "w") as f:
        f.write(pw)
    with open(g, "w") as f:
        f.write(gr)
    os.chmod(p, 0o644)
    os.chmod(g, 0o644)
    return p, g


def namespace_cmd(binds, argv, overlays=()):
    """argv run in a private mount namespace with the (source, target)
    bind mounts applied first, and each (extra, target) of overlays: a
    read-only overlay of the extracted directory over the system's one (a
    binary that re-executes itself by its compiled-in path finds itself
    there).  The host's mounts never see any of them."""
    script = "".join('mount --bind "%s" "%s" || exit 97\n' % b for b in binds)
    script += "".join('mount -t overlay smtpdx-interop -o "lowerdir=%s:%s" "%s"'
                      ' || exit 98\n' % (extra, target, target)
                      for extra, target in overlays)
    script += 'exec "$@"\n'
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", script,
            "sh"] + list(argv)
