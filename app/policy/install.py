"""Install a checked policy file into the county policy folder, whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from app.policy.loader import LoadedPolicy, PolicyError, check_text, read_bytes
from app.store.paths import county_policies_dir


def install_policy(source: Path, folder: Path | None = None) -> LoadedPolicy:
    """Check `source` as `policy check` does, then put exactly the checked bytes at <folder>/<编号>.yaml.

    Written beside the target and renamed over it, so a power cut leaves the old file or the new one, never
    half of one (a half file would stop the county's settlement until someone repaired it).
    """
    folder = folder or county_policies_dir()
    data = read_bytes(source)
    checked = check_text(data, source)  # the bytes read once are the bytes installed
    target = folder / f"{checked.policy.id}.yaml"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".yaml.tmp", dir=folder)
    except OSError as exc:
        raise PolicyError(str(folder), f"无法写入本县政策文件夹：{exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # the rename must not reach the disk before the content does
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the county's other accounts may need to read it
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise PolicyError(str(target), f"无法写入：{exc.strerror or exc}") from None
        raise
    return LoadedPolicy(checked.policy, target, checked.version)
