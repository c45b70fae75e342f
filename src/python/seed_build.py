# Builds a pip seed (src/lib/venv/seed.ts): `python -E -s -c <this file> WHEEL DEST FORMAT` unpacks
# pip's wheel into DEST/tree, byte-compiles it for this interpreter, and writes DEST/manifest.json
# (format FORMAT: dirs, files, RECORD lines, the pip console script's target). Runs on every
# Python Blast creates environments with; kept 2.7-compatible like the probe.
import sys, os, io, zipfile, compileall, json, csv
wheel, dest = sys.argv[1], sys.argv[2]
tree = os.path.join(dest, 'tree')
z = zipfile.ZipFile(wheel)
try:
    for info in z.infolist():
        name = info.filename
        if name.startswith('/') or '..' in name.split('/'):
            raise SystemExit('unsafe path in wheel: ' + name)
    z.extractall(tree)
    for info in z.infolist():
        mode = (info.external_attr >> 16) & 0o777
        if mode & 0o111 and not info.filename.endswith('/'):
            p = os.path.join(tree, info.filename)
            os.chmod(p, os.stat(p).st_mode | 0o111)
finally:
    z.close()
top = os.listdir(tree)
dist = [n for n in top if n.endswith('.dist-info')]
if len(dist) != 1:
    raise SystemExit('expected one .dist-info in the wheel, found %d' % len(dist))
if [n for n in top if n.endswith('.data')]:
    raise SystemExit('wheels with a .data directory are not supported as a seed')
dist = dist[0]
record_path = os.path.join(tree, dist, 'RECORD')
rows = []
f = open(record_path) if sys.version_info[0] < 3 else open(record_path, newline='', encoding='utf-8')
try:
    for row in csv.reader(f):
        if row and row[0] != dist + '/RECORD':
            rows.append([row[0], row[1] if len(row) > 1 else '', row[2] if len(row) > 2 else ''])
finally:
    f.close()
os.remove(record_path)
for leftover in ('INSTALLER', 'REQUESTED', 'direct_url.json'):
    p = os.path.join(tree, dist, leftover)
    if os.path.exists(p):
        os.remove(p)
        rows = [r for r in rows if r[0] != dist + '/' + leftover]
try:
    compileall.compile_dir(tree, quiet=2, workers=0)
except Exception:
    compileall.compile_dir(tree, quiet=2)
dirs, files = [], []
for dirpath, dirnames, filenames in os.walk(tree):
    dirnames.sort()
    rel = os.path.relpath(dirpath, tree).replace(os.sep, '/')
    if rel != '.':
        dirs.append(rel)
    for fn in sorted(filenames):
        p = fn if rel == '.' else rel + '/' + fn
        files.append(p)
        if fn.endswith('.pyc') and rel.split('/')[-1] == '__pycache__':
            rows.append([p, '', ''])
rows.sort()
buf = io.StringIO()
writer = csv.writer(buf, lineterminator='\n')
record = []
for row in rows:
    buf.seek(0)
    buf.truncate()
    writer.writerow(row)
    record.append(buf.getvalue()[:-1])
entry = None
ep = os.path.join(tree, dist, 'entry_points.txt')
if os.path.exists(ep):
    section = None
    for line in open(ep):
        line = line.strip()
        if line.startswith('['):
            section = line.strip('[]').strip()
        elif section == 'console_scripts' and '=' in line:
            name, _, target = line.partition('=')
            if name.strip() == 'pip':
                target = target.split('[')[0].strip()
                module, _, attr = target.partition(':')
                entry = {'module': module.strip(), 'attr': attr.strip() or 'main'}
if entry is None:
    raise SystemExit('the wheel declares no pip console script')
version = dist[:-len('.dist-info')].split('-', 1)[1]
manifest = {'format': int(sys.argv[3]), 'wheel': os.path.basename(wheel)[:-4], 'distInfo': dist, 'version': version,
            'dirs': dirs, 'files': files, 'record': record, 'entryPoint': entry}
f = open(os.path.join(dest, 'manifest.json'), 'w')
try:
    json.dump(manifest, f)
finally:
    f.close()
