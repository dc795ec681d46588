"""Deadline tests run in a fresh process with the machine set to another zone and the clock at either end of a day."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The deadline tests and the clock's own: quick, and the ones a date cut from a UTC stamp or read from the
# machine's zone breaks.
FOCUSED = ["tests/workflow/test_applications.py::test_overdue_cases_are_listed",
           "tests/workflow/test_applications.py::test_notice_placement_days_and_limits_are_configurable",
           "tests/store/test_clock.py"]


@pytest.mark.parametrize("zone, local", [
    ("Etc/GMT+12", "2026-06-10T00:30"),    # the machine is still at 04:30 on 9 June, UTC at 16:30 on 9 June
    ("Asia/Shanghai", "2026-06-10T23:30"),  # the county's own zone, half an hour before the day turns
])
def test_deadline_tests_pass_in_another_zone_at_either_end_of_the_day(zone, local):
    env = {**os.environ, "TZ": zone, "JIUZHU_TEST_NOW": local}
    run = subprocess.run([sys.executable, "-m", "pytest", "-o", "addopts=", "-q", "-p", "no:cacheprovider", *FOCUSED],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    ran = re.search(r"(\d+) passed", run.stdout)
    assert ran and int(ran[1]) > len(FOCUSED) and "skipped" not in run.stdout, run.stdout[-1000:]
