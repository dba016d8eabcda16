"""The device tool returns at most 8 files of 16 MiB: big outputs travel as numbered parts."""
import glob
import io
import os
import tarfile

PART_BYTES = 15 * 1024 * 1024


def write_parts(data: bytes, path: str) -> list[str]:
    for old in glob.glob(path + ".[0-9][0-9][0-9]"):
        os.remove(old)
    names = []
    for i in range(0, max(len(data), 1), PART_BYTES):
        name = f"{path}.{i // PART_BYTES:03d}"
        with open(name + ".tmp", "wb") as f:
            f.write(data[i : i + PART_BYTES])
        os.replace(name + ".tmp", name)
        names.append(name)
    return names


def read_parts(path: str) -> bytes:
    names = sorted(glob.glob(path + ".[0-9][0-9][0-9]"))
    if not names:
        raise FileNotFoundError(f"{path}: no parts ({path}.000 ...)")
    return b"".join(open(n, "rb").read() for n in names)


def tar_dir_to_parts(folder: str, path: str) -> list[str]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(folder, arcname=os.path.basename(folder))
    return write_parts(buf.getvalue(), path)
