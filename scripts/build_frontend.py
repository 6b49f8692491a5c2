"""Copy the nhsuk-frontend npm package's built CSS, JS and images into build/frontend/nhsuk/.

The package's stylesheet points at images under /assets/; rewriting those to relative URLs lets
Django's static files storage fingerprint and serve them like any other static file.
"""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"
OUT = ROOT / "build" / "frontend" / "nhsuk"


def main() -> int:
    if not DIST.is_dir():
        print(f"{DIST} is missing: run `npm ci` first", file=sys.stderr)
        return 1
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    shutil.copytree(DIST / "assets", OUT / "assets")
    # Source maps are not shipped: drop their comments, or browsers ask for them and the
    # manifest storage refuses to collect a file that points at a missing one.
    css = (DIST / "nhsuk-frontend.min.css").read_text()
    css = css.replace("/*# sourceMappingURL=nhsuk-frontend.min.css.map */", "")
    (OUT / "nhsuk-frontend.min.css").write_text(css.replace("url(/assets/", "url(assets/"))
    js = (DIST / "nhsuk-frontend.min.js").read_text()
    js = js.replace("//# sourceMappingURL=nhsuk-frontend.min.js.map", "")
    (OUT / "nhsuk-frontend.min.js").write_text(js)
    print(f"NHS.UK frontend assets built into {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
