"""Extracts from a tensorflow(-cpu) wheel only what the tfjs-node binding needs.

Usage: extract-tensorflow-wheel.py WHEEL BINDING_DIR OUT_DIR
Writes OUT_DIR/lib/{libtensorflow_cc.so.2, libtensorflow_framework.so.2} and OUT_DIR/include/ holding the
headers the binding's sources include, followed transitively (a few dozen files, not the wheel's 13,000).
"""
import re
import sys
import zipfile
from pathlib import Path

LIBS = ("libtensorflow_cc.so.2", "libtensorflow_framework.so.2")
INCLUDE = "tensorflow/include/"


def local_includes(text: str) -> list[str]:
    return re.findall(r'#include\s+"([^"]+)"', text)


def main(wheel: str, binding_dir: str, out_dir: str) -> None:
    out = Path(out_dir)
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for lib in LIBS:
            member = f"tensorflow/{lib}"
            if member not in names:
                sys.exit(f"{wheel} has no {member}; expected a tensorflow 2.x Linux wheel")
            target = out / "lib" / lib
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(member) as src, open(target, "wb") as dst:
                while chunk := src.read(1 << 24):
                    dst.write(chunk)
        todo = [h for f in Path(binding_dir).iterdir() if f.suffix in (".cc", ".h") for h in local_includes(f.read_text())]
        seen: set[str] = set()
        while todo:
            header = todo.pop()
            if header in seen or INCLUDE + header not in names:
                continue  # the binding's own headers (utils.h...) are not in the wheel
            seen.add(header)
            data = z.read(INCLUDE + header)
            target = out / "include" / header
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            todo.extend(local_includes(data.decode("utf-8", "replace")))
    print(f"extracted {len(LIBS)} libraries and {len(seen)} headers into {out}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
