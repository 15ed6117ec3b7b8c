"""dask workers as SLURM jobs (dask-jobqueue), driven from the login node.

Run it where you would type ``sbatch``: ``python dask_jobqueue_cluster.py``. The
scheduler runs in this process; each worker is a batch job that SLURMCluster submits
with ``sbatch`` and that connects back to the scheduler.
"""

import sys
import time

from dask_jobqueue import SLURMCluster
from distributed import Client

import kernels

cluster = SLURMCluster(
    queue="book",  # the partition
    cores=1,  # per job: one core, one worker process with one thread
    processes=1,
    memory="1GiB",
    walltime="00:05:00",
    python=sys.executable,  # the same Python environment on the compute nodes
    log_directory="dask-logs",
    scheduler_options={"dashboard_address": None},
)
print("each worker job is this batch script:")
print(cluster.job_script())
with cluster, Client(cluster) as client:
    start = time.perf_counter()
    cluster.scale(jobs=2)  # two sbatch submissions
    client.wait_for_workers(2, timeout=120)
    print(f"2 worker jobs connected in {time.perf_counter() - start:.1f} s")
    params = {"n": 256, "steps": 100}
    field = kernels.run(
        "heat", "dask-distributed", workers=2, address=cluster.scheduler_address, **params
    )
    print(f"heat on the worker jobs, equal to the reference: "
          f"{(field == kernels.reference('heat', **params)).all()}")  # fmt: skip
print("the cluster closed: its jobs are cancelled")
