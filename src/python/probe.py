# Blast's interpreter probe (src/lib/python/probe.ts): run as `python -E -s -c <this file>`, it prints
# one line `BLAST-PROBE:<json>` with everything Blast needs to know about an interpreter.
# It must run on every Python a user may have -- 2.7 included, so that one can be listed and
# rejected with a reason -- so it avoids f-strings and anything newer than 2.7/3.3.
import sys, os, json
def main():
    out = {}
    vi = sys.version_info
    out['versionInfo'] = [vi[0], vi[1], vi[2], str(vi[3]), vi[4]]
    impl = getattr(sys, 'implementation', None)
    if impl is not None:
        out['implementation'] = impl.name
        out['cacheTag'] = impl.cache_tag
    else:
        import platform
        out['implementation'] = platform.python_implementation().lower()
        out['cacheTag'] = None
    out['executable'] = os.path.realpath(sys.executable) if sys.executable else None
    out['prefix'] = sys.prefix
    base_prefix = getattr(sys, 'real_prefix', None) or getattr(sys, 'base_prefix', sys.prefix)
    out['basePrefix'] = base_prefix
    out['isVenv'] = os.path.realpath(base_prefix) != os.path.realpath(sys.prefix)
    out['baseExecutable'] = None
    if out['isVenv']:
        cands = []
        be = getattr(sys, '_base_executable', None)
        if be and not os.path.realpath(be).startswith(os.path.realpath(sys.prefix) + os.sep):
            cands.append(be)
        home = None
        try:
            with open(os.path.join(sys.prefix, 'pyvenv.cfg')) as f:
                for line in f:
                    k, sep, v = line.partition('=')
                    if sep and k.strip().lower() == 'home':
                        home = v.strip()
        except Exception:
            pass
        for d in [home, os.path.join(base_prefix, 'bin')]:
            if d:
                for n in ('python%d.%d' % vi[:2], 'python%d' % vi[0], 'python'):
                    cands.append(os.path.join(d, n))
        for c in cands:
            if os.path.isfile(c) and os.access(c, os.X_OK):
                out['baseExecutable'] = c
                break
    out['is64bit'] = sys.maxsize > 2 ** 32
    out['platform'] = sys.platform
    out['osName'] = os.name
    try:
        import importlib.util, binascii
        out['magic'] = binascii.hexlify(importlib.util.MAGIC_NUMBER).decode('ascii')
    except Exception:
        out['magic'] = None
    import sysconfig
    root = os.sep + '__blast_venv__'
    names = sysconfig.get_scheme_names()
    out['venvScheme'] = 'venv' in names
    scheme = 'venv' if 'venv' in names else 'posix_prefix'
    vs = {'base': root, 'platbase': root, 'installed_base': root, 'installed_platbase': root}
    for key in ('purelib', 'include', 'scripts'):
        try:
            out[key] = os.path.relpath(sysconfig.get_path(key, scheme, vs), root)
        except Exception:
            out[key] = None
    stdlib = sysconfig.get_path('stdlib')
    scripts = os.path.join(stdlib, 'venv', 'scripts')
    out['venvScripts'] = scripts if os.path.isdir(scripts) else None
    templates = []
    if out['venvScripts']:
        for sub in ('common', os.name):
            d = os.path.join(scripts, sub)
            if os.path.isdir(d):
                for dirpath, dirnames, filenames in os.walk(d):
                    dirnames[:] = sorted(x for x in dirnames if x != '__pycache__')
                    for fn in sorted(filenames):
                        templates.append(os.path.relpath(os.path.join(dirpath, fn), scripts))
    out['venvTemplates'] = templates
    # The pip wheel ensurepip would install, found the way ensurepip finds it.
    def vkey(name):
        parts = []
        for p in name.split('-')[1].split('.'):
            parts.append(int(p) if p.isdigit() else -1)
        return parts
    pip_version = None
    ensurepip_dir = os.path.join(stdlib, 'ensurepip')
    try:
        import re
        with open(os.path.join(ensurepip_dir, '__init__.py')) as f:
            m = re.search(r'^_PIP_VERSION\s*=\s*["\']([^"\']+)', f.read(), re.M)
            if m:
                pip_version = m.group(1)
    except Exception:
        pass
    wheel = None
    dirs = []
    pkg_dir = sysconfig.get_config_var('WHEEL_PKG_DIR')
    if pkg_dir:
        dirs.append(pkg_dir)
    dirs.append(os.path.join(ensurepip_dir, '_bundled'))
    for d in dirs:
        try:
            found = sorted((n for n in os.listdir(d) if n.startswith('pip-') and n.endswith('.whl')), key=vkey)
        except Exception:
            continue
        if not found:
            continue
        exact = [n for n in found if pip_version and n.split('-')[1] == pip_version]
        wheel = os.path.join(d, (exact or found)[-1])
        break
    out['pipWheel'] = wheel
    out['pipWheelRequiresPython'] = None
    if wheel:
        try:
            import zipfile
            z = zipfile.ZipFile(wheel)
            try:
                for n in z.namelist():
                    if n.endswith('.dist-info/METADATA') and n.count('/') == 1:
                        for line in z.read(n).decode('utf-8').splitlines():
                            if not line:
                                break
                            if line.lower().startswith('requires-python:'):
                                out['pipWheelRequiresPython'] = line.split(':', 1)[1].strip()
            finally:
                z.close()
        except Exception:
            pass
    sys.stdout.write('BLAST-PROBE:' + json.dumps(out) + '\n')
main()
