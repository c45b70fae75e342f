# Refills a seed's pool of spare trees (src/lib/venv/seed.ts), detached and never waited for:
# `python -E -s -c <this file> SEED WANT` hard-links DEST/tree into SEED/spares/spare-* until WANT
# are there, under a mkdir lock (stale after five minutes). Failures only cost speed.
import os, sys, json, time, shutil
seed, want = sys.argv[1], int(sys.argv[2])
spares = os.path.join(seed, 'spares')
try:
    os.mkdir(spares)
except OSError:
    pass
lock = os.path.join(spares, '.lock')
try:
    os.mkdir(lock)
except OSError:
    try:
        stale = time.time() - os.stat(lock).st_mtime > 300
    except OSError:
        stale = False
    if not stale:
        sys.exit(0)
    os.utime(lock, None)
tmp = None
try:
    with open(os.path.join(seed, 'manifest.json')) as f:
        m = json.load(f)
    tree = os.path.join(seed, 'tree')
    for n in os.listdir(spares):
        if n.startswith('.building-'):
            shutil.rmtree(os.path.join(spares, n), ignore_errors=True)
    while len([n for n in os.listdir(spares) if not n.startswith('.')]) < want:
        name = '%d-%d' % (os.getpid(), int(time.time() * 1e6))
        tmp = os.path.join(spares, '.building-' + name)
        os.mkdir(tmp)
        for d in m['dirs']:
            os.mkdir(os.path.join(tmp, d))
        for p in m['files']:
            os.link(os.path.join(tree, p), os.path.join(tmp, p))
        os.rename(tmp, os.path.join(spares, 'spare-' + name))
        tmp = None
except Exception:
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
finally:
    try:
        os.rmdir(lock)
    except OSError:
        pass
