"""The wheels of build:native:gpu: GPU TensorFlow and NVIDIA's CUDA/cuDNN runtime wheels (its [and-cuda] extra).

Usage:
  gpu-wheels.py plan INDEX_URL...           one line per wheel: "found NAME VERSION SIZE URL" or "missing NAME SPEC";
                                            exit 0 when all are found, 3 otherwise
  gpu-wheels.py and-cuda WHEEL              the [and-cuda] requirements in a tensorflow wheel's METADATA
  gpu-wheels.py extract-nvidia OUT WHEEL... unpacks nvidia/<part>/lib/* of NVIDIA wheels into OUT/<part>/lib
                                            and prints each lib folder

Indexes are PEP 503 "simple" indexes (file://, http://, https://), read directly: nothing is downloaded by plan.
"""
import re
import sys
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

from pip._vendor.packaging.specifiers import SpecifierSet
from pip._vendor.packaging.version import InvalidVersion, Version

TENSORFLOW = ("tensorflow", "==2.21.0")
# tensorflow 2.21.0's [and-cuda] extra (Requires-Dist ...; extra == "and-cuda" in its METADATA; tensorflow-cpu
# 2.21.0 carries the same list). build:native:gpu compares it with the downloaded wheel's own METADATA.
AND_CUDA = [
    ("nvidia-cublas-cu12", "<13.0,>=12.5.3.2"),
    ("nvidia-cuda-cupti-cu12", "<13.0,>=12.5.82"),
    ("nvidia-cuda-nvcc-cu12", "<13.0,>=12.5.82"),
    ("nvidia-cuda-nvrtc-cu12", "<13.0,>=12.5.82"),
    ("nvidia-cuda-runtime-cu12", "<13.0,>=12.5.82"),
    ("nvidia-cudnn-cu12", "<10.0,>=9.3.0.75"),
    ("nvidia-cufft-cu12", "<12.0,>=11.2.3.61"),
    ("nvidia-curand-cu12", "<11.0,>=10.3.6.82"),
    ("nvidia-cusolver-cu12", "<12.0,>=11.6.3.83"),
    ("nvidia-cusparse-cu12", "<13.0,>=12.5.1.3"),
    ("nvidia-nccl-cu12", "<3.0,>=2.27.7"),
    ("nvidia-nvjitlink-cu12", "<13.0,>=12.5.82"),
]
PY_TAGS = {"py3", "py2.py3", f"cp{sys.version_info.major}{sys.version_info.minor}"}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read(url: str) -> str:
    if url.startswith("file://"):
        return Path(urllib.parse.urlparse(url).path).read_text(errors="replace")
    with urllib.request.urlopen(url, timeout=30) as r:  # noqa: S310 (the configured pip index)
        return r.read().decode("utf-8", "replace")


def wheels(index: str, name: str):
    """(version, size or None, url) of the Linux x86-64 wheels of `name` in a simple index this Python can install."""
    page = f"{index.rstrip('/')}/{normalize(name)}/"
    try:
        html = read(page + ("index.html" if page.startswith("file://") else ""))
    except (OSError, ValueError):
        return []
    found = []
    for href in re.findall(r'href="([^"]+)"', html):
        url = urllib.parse.urljoin(page, href.split("#")[0])
        parts = urllib.parse.unquote(url.rsplit("/", 1)[-1]).removesuffix(".whl").split("-")
        if len(parts) < 5 or normalize(parts[0]) != normalize(name):
            continue
        py, plat = parts[-3], parts[-1]
        if not (set(py.split(".")) & PY_TAGS or py in PY_TAGS) or not ("x86_64" in plat or plat == "any"):
            continue
        try:
            version = Version(parts[1])
        except InvalidVersion:
            continue
        size = None
        if url.startswith("file://"):
            path = Path(urllib.parse.unquote(urllib.parse.urlparse(url).path))
            size = path.stat().st_size if path.exists() else None
        found.append((version, size, url))
    return found


def plan(indexes: list[str]) -> int:
    missing = 0
    for name, spec in [TENSORFLOW, *AND_CUDA]:
        best = None
        for index in indexes:
            for version, size, url in wheels(index, name):
                if version in SpecifierSet(spec) and (best is None or version > best[0]):
                    best = (version, size, url)
        if best is None:
            missing += 1
            print(f"missing {name} {spec}")
        else:
            size = "?" if best[1] is None else f"{best[1] / 2**20:.0f}MB"
            print(f"found {name} {best[0]} {size} {best[2]}")
    return 3 if missing else 0


def and_cuda(wheel: str) -> int:
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        for line in z.read(meta).decode().splitlines():
            m = re.match(r'Requires-Dist: ([A-Za-z0-9_.-]+)\s*\(?([^;)]*)\)?;.*extra == "and-cuda"', line)
            if m:
                print(f"{normalize(m.group(1))} {m.group(2).replace(' ', '')}")
    return 0


def extract_nvidia(out: str, wheel_files: list[str]) -> int:
    dirs = set()
    for wheel in wheel_files:
        with zipfile.ZipFile(wheel) as z:
            for member in z.namelist():
                m = re.match(r"nvidia/([^/]+)/lib/([^/]+)$", member)
                if not m:
                    continue
                target = Path(out) / m.group(1) / "lib" / m.group(2)
                target.parent.mkdir(parents=True, exist_ok=True)
                with z.open(member) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 24):
                        dst.write(chunk)
                dirs.add(str(target.parent))
    for d in sorted(dirs):
        print(d)
    return 0


if __name__ == "__main__":
    cmd, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if cmd == "plan" and args:
        sys.exit(plan(args))
    if cmd == "and-cuda" and len(args) == 1:
        sys.exit(and_cuda(args[0]))
    if cmd == "extract-nvidia" and len(args) >= 2:
        sys.exit(extract_nvidia(args[0], args[1:]))
    sys.exit(__doc__)
