# What only an environment's interpreter can say for a lock (src/lib/lock/interpreter.ts): run as
# `python -I -c <this file>` with {"markers": [...], "tags": bool} on stdin, it prints
# {"markers": {marker: bool or why not}, "tags": [...best first], "python": "X.Y.Z"}, through
# the packaging library pip vendors, so markers and tags mean what they mean to pip.
import json, sys
from pip._vendor.packaging.markers import Marker
from pip._vendor.packaging.tags import sys_tags
ask = json.load(sys.stdin)
out = {'markers': {}, 'tags': [], 'python': '%d.%d.%d' % sys.version_info[:3]}
for m in ask['markers']:
    try:
        out['markers'][m] = Marker(m).evaluate()
    except Exception as e:
        out['markers'][m] = str(e)
if ask['tags']:
    out['tags'] = [str(t) for t in sys_tags()]
print(json.dumps(out))
