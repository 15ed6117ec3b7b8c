"""The machine's facts: usable cores under an affinity mask and a cgroup CPU quota."""

from __future__ import annotations

import os

import pytest

from kernels.core import machine, sizes


def test_cgroup_v2_quota_in_cores(tmp_path):
    (tmp_path / "cpu.max").write_text("250000 100000\n")
    assert machine.cgroup_cpu_limit(tmp_path) == 2.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert machine.cgroup_cpu_limit(tmp_path) is None


def test_cgroup_v1_quota_in_cores(tmp_path):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("150000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert machine.cgroup_cpu_limit(tmp_path) == 1.5
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert machine.cgroup_cpu_limit(tmp_path) is None


def test_no_cgroup_files_means_no_limit(tmp_path):
    assert machine.cgroup_cpu_limit(tmp_path) is None


@pytest.mark.parametrize(("quota", "expected"), [(0.5, 1), (1.2, 2), (None, None)])
def test_usable_cores_is_the_affinity_mask_capped_by_the_quota(monkeypatch, quota, expected):
    affinity = len(os.sched_getaffinity(0))
    monkeypatch.setattr(machine, "cgroup_cpu_limit", lambda: quota)
    want = affinity if expected is None else min(affinity, expected)
    assert machine.usable_cores() == want
    assert machine.cores()["usable"] == want
    assert sizes.max_workers() == min(max(want, 2), 8)


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"SLURM_JOB_ID": "7", "SLURM_CPUS_PER_TASK": "1"}, 1),
        ({"SLURM_JOB_ID": "7", "SLURM_CPUS_ON_NODE": "1"}, 1),
        ({"SLURM_JOB_ID": "7", "SLURM_CPUS_PER_TASK": "1", "SLURM_CPUS_ON_NODE": "64"}, 1),
        ({"SLURM_JOB_ID": "7", "SLURM_CPUS_PER_TASK": "4096"}, None),  # more than the mask
        ({"SLURM_CPUS_PER_TASK": "1"}, None),  # left in a login shell: not a job
        ({"SLURM_JOB_ID": "7", "SLURM_CPUS_PER_TASK": "x"}, None),
    ],
)
def test_usable_cores_inside_a_slurm_job(monkeypatch, variables, expected):
    for name in ("SLURM_JOB_ID", "SLURM_CPUS_PER_TASK", "SLURM_CPUS_ON_NODE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(machine, "cgroup_cpu_limit", lambda: None)
    affinity = len(os.sched_getaffinity(0))
    assert machine.usable_cores() == (affinity if expected is None else expected)
